import { encodeGlobalID } from '@pothos/plugin-relay';

// Typed outcomes of the directory: what a read or a write may answer besides its object, and the
// form an outcome is stored in for idempotent replays (writes/run.ts). Every write outcome extends
// BaseError, so that a mutation's result union can always fall back to it; plain `Error`s are
// bugs or upstream failures and go to top-level masking (src/errors.ts). The schema declares
// them as GraphQL types in src/schema/errors.ts.

/** A question that needs a scan of more users than UPSTREAM_SCAN_LIMIT allows. */
export class ScanLimitError extends Error {
  readonly code = 'SCAN_LIMIT_EXCEEDED';
  constructor(limit: number) {
    super(
      `This question needs a scan of more than ${limit} users, the configured UPSTREAM_SCAN_LIMIT; narrow it with an exact filter (userName or externalId)`,
    );
    this.name = 'ScanLimitError';
  }
}

export type NodeTypename = 'User' | 'Team' | 'Role';

export class BaseError extends Error {
  constructor(message: string) {
    super(message);
    this.name = new.target.name;
  }

  /** Whether a repetition with the same idempotency key must get this same answer. */
  get replayable(): boolean {
    return true;
  }

  /**
   * The message for an upstream named `upstream` (`Keeper` or `the SCIM upstream`); `message`
   * itself is the Keeper wording. Built from the error's fields, so a replayed error gets it too.
   */
  messageFor(upstream: string): string {
    void upstream;
    return this.message;
  }
}

const isKeeper = (upstream: string) => upstream === 'Keeper';

/** Keeper's 409 "Email already taken"; uniqueness ignores case (docs/keeper-scim.md §7). */
export class EmailAlreadyInUseError extends BaseError {
  readonly email: string;
  constructor(email: string) {
    super(
      `The e-mail address ${email} is already in use by a Keeper user (compared without case).`,
    );
    this.email = email;
  }

  override messageFor(upstream: string): string {
    return isKeeper(upstream)
      ? this.message
      : `The user name ${this.email} is already in use in ${upstream}.`;
  }
}

/** Keeper's 428 "Number of licensed seats was exceeded". */
export class SeatLimitReachedError extends BaseError {
  constructor() {
    super(
      'All licensed Keeper seats are in use; free a seat or add licences, then retry. Locked users hold a seat.',
    );
  }

  override messageFor(upstream: string): string {
    return isKeeper(upstream)
      ? this.message
      : `${upstream} has no free licensed seat; free one or add licences, then retry.`;
  }
}

export class NotFoundError extends BaseError {
  readonly typename: NodeTypename;
  readonly keeperId: string;
  constructor(typename: NodeTypename, keeperId: string) {
    super(
      `No ${typename} with id ${encodeGlobalID(typename, keeperId)} (Keeper id ${keeperId}) in this Keeper node.`,
    );
    this.typename = typename;
    this.keeperId = keeperId;
  }

  override messageFor(upstream: string): string {
    return isKeeper(upstream)
      ? this.message
      : `No ${this.typename} with id ${encodeGlobalID(this.typename, this.keeperId)} (upstream id ${this.keeperId}) in ${upstream}.`;
  }
}

/**
 * A team or role name that another group already has (compared without case): Keeper would make
 * a second group with the name, a server with unique names answers 409 uniqueness.
 */
export class NameAlreadyInUseError extends BaseError {
  readonly typename: 'Team' | 'Role';
  /** The name asked for (`name` is the error class's, as on every Error). */
  readonly takenName: string;
  /** Keeper ids of the groups that have the name; empty when only a 409 said so. */
  readonly existingKeeperIds: string[];
  constructor(typename: 'Team' | 'Role', takenName: string, existingKeeperIds: string[]) {
    super(
      `The name "${takenName}" is already used by another team or role (compared without case). Choose another name, or send allowDuplicateName: true where the upstream allows two groups with one name.`,
    );
    this.typename = typename;
    this.takenName = takenName;
    this.existingKeeperIds = existingKeeperIds;
  }
}

/**
 * A write whose answer was lost (a create, or a membership change), and a look-up that could not
 * settle whether it was applied.
 */
export class OutcomeUnknownError extends BaseError {
  readonly typename: NodeTypename;
  readonly lookup: string;
  constructor(
    typename: NodeTypename,
    lookup: string,
    why: string,
    action: 'created' | 'changed' = 'created',
  ) {
    super(
      `The ${typename} may or may not have been ${action}: ${why}. Look it up by ${lookup} before trying again, or repeat the call with the same idempotency key, which looks it up first.`,
    );
    this.typename = typename;
    this.lookup = lookup;
  }

  // Never replayed: the next call with the key must look again.
  override get replayable(): boolean {
    return false;
  }
}

export class IdempotencyKeyReusedError extends BaseError {
  readonly key: string;
  constructor(key: string, mutation: string) {
    super(
      `The idempotency key "${key}" was already used for ${mutation} with a different input; use a new key for a new request.`,
    );
    this.key = key;
  }

  override get replayable(): boolean {
    return false;
  }
}

/** docs/keeper-scim.md §8.15: groups made outside SCIM (no externalId) are not the facade's to delete. */
export class UnmanagedGroupError extends BaseError {
  readonly typename: 'Team' | 'Role';
  readonly keeperId: string;
  constructor(typename: 'Team' | 'Role', keeperId: string) {
    super(
      `This ${typename.toLowerCase()} was created outside SCIM (it has no externalId); like Keeper's own sync tools, this service does not delete it. Delete it in the Keeper Admin Console.`,
    );
    this.typename = typename;
    this.keeperId = keeperId;
  }

  override messageFor(upstream: string): string {
    return isKeeper(upstream)
      ? this.message
      : `This ${this.typename.toLowerCase()} was not created through SCIM provisioning (it has no externalId), so this service does not delete it; delete it in ${upstream} itself.`;
  }
}

// ---- stored form, for idempotent replays ------------------------------------------------------

const REPLAYABLE = {
  EmailAlreadyInUseError,
  SeatLimitReachedError,
  NotFoundError,
  NameAlreadyInUseError,
  UnmanagedGroupError,
} as const;

export type StoredError = { error: string; message: string; fields: Record<string, unknown> };

export function storeError(error: BaseError): StoredError {
  return { error: error.name, message: error.message, fields: { ...error } };
}

export function reviveError(stored: StoredError): BaseError {
  const Class = REPLAYABLE[stored.error as keyof typeof REPLAYABLE] ?? BaseError;
  // Rebuilt without its constructor: the stored message and fields are the first answer's.
  return Object.assign(Object.create(Class.prototype) as BaseError, stored.fields, {
    name: stored.error,
    message: stored.message,
  });
}

export const isStoredError = (value: unknown): value is StoredError =>
  typeof value === 'object' && value !== null && 'error' in value && 'message' in value;

/**
 * A list argument the directory cannot answer as asked: a mirror-only argument on a fresh read,
 * or a keyset cursor of another list. The schema maps it to BAD_USER_INPUT naming `argument`.
 */
export class InvalidArgumentError extends Error {
  readonly code = 'BAD_USER_INPUT';
  constructor(
    message: string,
    readonly argument?: string,
  ) {
    super(message);
    this.name = 'InvalidArgumentError';
  }
}

/** A change-feed cursor older than the retention (CHANGES_RETENTION): read the directory again. */
export class ResyncRequiredError extends Error {
  readonly code = 'RESYNC_REQUIRED';
  constructor(message: string) {
    super(message);
    this.name = 'ResyncRequiredError';
  }
}
