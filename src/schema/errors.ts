import { PothosValidationError } from '@pothos/core';
import { encodeGlobalID } from '@pothos/plugin-relay';
import { InputValidationError } from '@pothos/plugin-validation';
import {
  BaseError,
  EmailAlreadyInUseError,
  IdempotencyKeyReusedError,
  NameAlreadyInUseError,
  NotFoundError,
  OutcomeUnknownError,
  SeatLimitReachedError,
  UnmanagedGroupError,
} from '../directory/outcomes.ts';
import { builder } from './builder.ts';

// Expected outcomes of mutations, as schema types (pothos plugins/errors.mdx "Recommended Usage":
// an `Error` interface, a `BaseError` object, every custom error implementing the interface).
// The classes are the directory's outcomes (src/directory/outcomes.ts), all extending BaseError so
// that a mutation's union can always fall back to it; plain `Error`s are NOT caught (they are bugs
// or upstream failures and go to top-level masking, src/errors.ts). Input problems are Pothos' own
// validation errors, shown as InvalidInputError.

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
