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
}

/** Keeper's 409 "Email already taken"; uniqueness ignores case (keeper-scim.md §7). */
export class EmailAlreadyInUseError extends BaseError {
  readonly email: string;
  constructor(email: string) {
    super(
      `The e-mail address ${email} is already in use by a Keeper user (compared without case).`,
    );
    this.email = email;
  }
}

/** Keeper's 428 "Number of licensed seats was exceeded". */
export class SeatLimitReachedError extends BaseError {
  constructor() {
    super(
      'All licensed Keeper seats are in use; free a seat or add licences, then retry. Locked users hold a seat.',
    );
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

/** keeper-scim.md §8.15: groups made outside SCIM (no externalId) are not the facade's to delete. */
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
}

// ---- stored form, for idempotent replays ------------------------------------------------------

const REPLAYABLE = {
  EmailAlreadyInUseError,
  SeatLimitReachedError,
  NotFoundError,
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
    message: t.exposeString('message', { description: 'What went wrong, for people.' }),
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
