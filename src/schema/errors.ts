import { PothosValidationError } from '@pothos/core';
import { encodeGlobalID } from '@pothos/plugin-relay';
import { InputValidationError } from '@pothos/plugin-validation';
import { builder } from './builder.ts';

// Expected outcomes of mutations, as schema types (pothos plugins/errors.mdx "Recommended Usage":
// an `Error` interface, a `BaseError` object, every custom error implementing the interface).
// Every class here extends BaseError so that a mutation's union can always fall back to it; plain
// `Error`s are NOT caught (they are bugs or upstream failures and go to top-level masking,
// src/errors.ts). Input problems are Pothos' own validation errors, shown as InvalidInputError.

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

// ---- input problems -----------------------------------------------------------------------------

export type InputProblem = { path: readonly (string | number)[]; message: string };

/** An input problem found in a resolver (before any upstream call), shown as InvalidInputError. */
export const invalidInput = (...problems: InputProblem[]) =>
  new InputValidationError({
    issues: problems.map((p) => ({ message: p.message, path: [...p.path] })),
  });

type Issue = { message: string; path?: readonly (PropertyKey | { key: PropertyKey })[] };

function inputFields(error: PothosValidationError): InputProblem[] {
  const issues = (error as { issues?: readonly Issue[] }).issues;
  // A malformed global id fails in the relay plugin's decoder, which names no field; mutations
  // take one `input` argument, so that is where it is.
  if (!issues) return [{ path: ['input'], message: error.message }];
  return issues.map((issue) => ({
    path: (issue.path ?? []).map((p) =>
      typeof p === 'object' ? String(p.key) : typeof p === 'number' ? p : String(p),
    ),
    message: issue.message,
  }));
}

// ---- schema types -------------------------------------------------------------------------------

export const ErrorInterface = builder.interfaceRef<Error>('Error').implement({
  description:
    'An expected failure of a mutation. Every error type implements it, so `... on Error { message }` reads any of them.',
  fields: (t) => ({
    message: t.string({
      description: 'What went wrong, for people.',
      // Duck-typed: the object a union member resolves from is not always `instanceof` the class
      // (measured: false for a NotFoundError thrown from a resolver).
      resolve: (e, _args, ctx) =>
        'messageFor' in e && typeof e.messageFor === 'function'
          ? (e as BaseError).messageFor(ctx.upstream.name)
          : e.message,
    }),
  }),
});

builder.objectType(BaseError, {
  name: 'BaseError',
  description: 'An expected failure without a more specific type.',
  interfaces: [ErrorInterface],
  fields: () => ({}),
});

builder.objectType(EmailAlreadyInUseError, {
  name: 'EmailAlreadyInUseError',
  description:
    'Keeper already has a user with this e-mail address (upstream 409). Keeper compares addresses without case, and the user may be in another node.',
  interfaces: [ErrorInterface],
  fields: (t) => ({
    email: t.exposeString('email', { description: 'The address that is taken, as given.' }),
  }),
});

builder.objectType(SeatLimitReachedError, {
  name: 'SeatLimitReachedError',
  description:
    'Every licensed Keeper seat is taken (upstream 428), so no user can be invited. Locked users keep their seats.',
  interfaces: [ErrorInterface],
  fields: () => ({}),
});

builder.objectType(NotFoundError, {
  name: 'NotFoundError',
  description:
    'An object the input names does not exist in this Keeper node (upstream 404, or the id is of another kind of object).',
  interfaces: [ErrorInterface],
  fields: (t) => ({
    id: t.id({
      description: 'The global id that was not found.',
      resolve: (e) => encodeGlobalID(e.typename, e.keeperId),
    }),
    typename: t.exposeString('typename', {
      description: 'The kind of object that was looked for: `User`, `Team` or `Role`.',
    }),
    keeperId: t.exposeString('keeperId', { description: "Keeper's id that was not found." }),
  }),
});

builder.objectType(NameAlreadyInUseError, {
  name: 'NameAlreadyInUseError',
  description:
    'Another team or role already has this name, compared without case. Nothing was written. Keeper allows two groups with one name, other SCIM servers answer 409 uniqueness; send `allowDuplicateName: true` to create or rename anyway where the upstream allows it.',
  interfaces: [ErrorInterface],
  fields: (t) => ({
    name: t.exposeString('takenName', { description: 'The name that is taken, as given.' }),
    existingIds: t.idList({
      description:
        'Global ids of the teams or roles that have the name; empty when only the upstream’s 409 said so and a look-up found none.',
      resolve: (e) => e.existingKeeperIds.map((id) => encodeGlobalID(e.typename, id)),
    }),
  }),
});

const InputFieldError = builder.objectRef<InputProblem>('InputFieldError').implement({
  description: 'One problem with one input field.',
  fields: (t) => ({
    path: t.string({
      description:
        'Where the problem is, dotted from the argument: `input.userName`, `input.userIds.2`.',
      resolve: (p) => p.path.join('.'),
    }),
    message: t.exposeString('message', { description: 'What is wrong with the value.' }),
  }),
});

// Bound to Pothos' base validation error: zod failures (InputValidationError) and the relay
// plugin's malformed-global-id error are both input problems, found before any upstream call.
builder.objectType(PothosValidationError, {
  name: 'InvalidInputError',
  description:
    'The input is invalid; nothing was sent to Keeper. `fields` lists every problem found.',
  interfaces: [ErrorInterface],
  fields: (t) => ({
    fields: t.field({
      type: [InputFieldError],
      description: 'Each invalid field with its problem.',
      resolve: (e) => inputFields(e),
    }),
  }),
});

builder.objectType(OutcomeUnknownError, {
  name: 'OutcomeUnknownError',
  description:
    'A write was sent but its answer was lost (timeout or reset), and looking the object up could not settle whether it was applied: a create, or a change of members. Nothing is known to be written twice. Repeat the call with the same idempotency key: a create looks the object up before writing again, and a change of members is safe to repeat.',
  interfaces: [ErrorInterface],
  fields: (t) => ({
    typename: t.exposeString('typename', {
      description: 'The kind of object the write was for: `User`, `Team` or `Role`.',
    }),
    lookup: t.exposeString('lookup', {
      description: 'How to look it up, e.g. `userName "ada@example.com"`.',
    }),
  }),
});

builder.objectType(IdempotencyKeyReusedError, {
  name: 'IdempotencyKeyReusedError',
  description:
    'The idempotency key (`clientMutationId` or `Idempotency-Key` header) was already used for this mutation with a different input. Nothing was written.',
  interfaces: [ErrorInterface],
  fields: (t) => ({
    key: t.exposeString('key', { description: 'The reused key.' }),
  }),
});

builder.objectType(UnmanagedGroupError, {
  name: 'UnmanagedGroupError',
  description:
    'The team or role was created outside SCIM (it has no externalId), so this service does not delete it, as Keeper’s own sync tools do not.',
  interfaces: [ErrorInterface],
  fields: (t) => ({
    id: t.id({
      description: 'The global id of the team or role.',
      resolve: (e) => encodeGlobalID(e.typename, e.keeperId),
    }),
  }),
});

/** Errors every mutation can answer. */
export const COMMON_ERRORS = [BaseError, PothosValidationError, IdempotencyKeyReusedError] as const;
