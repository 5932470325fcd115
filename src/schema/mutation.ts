import { z } from 'zod';
import type { Context } from '../context.ts';
import type { NodeTypename } from '../directory/outcomes.ts';
import type { PayloadBase, RunInfo } from '../directory/writes/run.ts';
import type { builder } from './builder.ts';
import { invalidInput } from './errors.ts';

// Building blocks shared by user-, team- and role-mutations.ts: the validation rules that need no
// upstream (zod, run by the validation plugin before the resolver), the rules that depend on the
// node's role prefix (zod too, but run in the resolver since the prefix is runtime state), the
// idempotency key, and the fields every input and payload has.

// ---- input rules --------------------------------------------------------------------------------

/** Keeper's userName must be an e-mail address (docs/keeper-scim.md §2.1). */
export const email = z.email({ error: 'must be an e-mail address' }).max(254);

export const nonEmpty = z
  .string()
  .trim()
  .min(1, { error: 'must not be empty' })
  .max(256, { error: 'must have at most 256 characters' });

/** A decoded global id of the given type; a Team id where a User id belongs is invalid input. */
export const idOf = (typename: NodeTypename) =>
  z.custom<{ typename: string; id: string }>().refine((v) => v.typename === typename, {
    error: `must be the id of a ${typename}`,
  });

export const idsOf = (typename: NodeTypename, max = 1000) =>
  z.array(idOf(typename)).max(max, { error: `at most ${max} ids in one call` });

/** The team name rule: the role prefix would make Keeper create a role (docs/keeper-scim.md §7). */
export function checkTeamName(ctx: Context, name: string, path: (string | number)[]): void {
  const prefix = ctx.upstream.rolePrefix;
  const result = z
    .string()
    .refine((n) => prefix === '' || !n.startsWith(prefix), {
      error: `must not start with the role prefix "${prefix}": Keeper would create a role; use createRole`,
    })
    .safeParse(name);
  if (!result.success) throw invalidInput(...issuesAt(result.error, path));
}

/** Role names are given without the prefix; the facade adds it. */
export function checkRoleName(ctx: Context, name: string, path: (string | number)[]): void {
  const prefix = ctx.upstream.rolePrefix;
  const result = z
    .string()
    .refine((n) => prefix === '' || !n.startsWith(prefix), {
      error: `give the role name without the role prefix "${prefix}"; it is added for you`,
    })
    .safeParse(name);
  if (!result.success) throw invalidInput(...issuesAt(result.error, path));
}

function issuesAt(error: z.ZodError, path: (string | number)[]) {
  return error.issues.map((i) => ({
    path: [...path, ...i.path.map((p) => (typeof p === 'number' ? p : String(p)))],
    message: i.message,
  }));
}

/** Decoded ids, deduplicated in order (SCIM would treat duplicates as one anyway). */
export const keeperIds = (ids: readonly { id: string }[] | null | undefined): string[] => [
  ...new Set((ids ?? []).map((g) => g.id)),
];

// ---- input and payload fields shared by every mutation ---------------------------------------

type Types = typeof builder extends PothosSchemaTypes.SchemaBuilder<infer T> ? T : never;
export type InputFieldBuilder = PothosSchemaTypes.InputFieldBuilder<Types, 'InputObject'>;

export const clientMutationIdField = (t: InputFieldBuilder) =>
  t.string({
    required: false,
    description:
      'An idempotency key (like the `Idempotency-Key` header): repeating this mutation with the same key and input within IDEMPOTENCY_TTL_SECONDS (24 h) returns the first result without writing again; the same key with another input answers IdempotencyKeyReusedError. Echoed in the payload.',
  });

/**
 * The zod rules of a whole input type. Whole-type rather than per-field: the validation plugin
 * stops at the first failing field, while one object schema reports every invalid field at once.
 * Loose, so fields without rules pass through unchanged.
 */
export const inputRules = <S extends z.ZodRawShape>(shape: S) =>
  z.looseObject({
    ...shape,
    clientMutationId: z
      .string()
      .min(1, { error: 'must not be empty' })
      .max(255, { error: 'must have at most 255 characters' })
      .nullish(),
  });

/** The fields every payload has beside its object: the echoed key and whether it was replayed. */
export const payloadBaseFields = <P extends PayloadBase>(
  t: PothosSchemaTypes.ObjectFieldBuilder<Types, P>,
) => ({
  clientMutationId: t.string({
    nullable: true,
    description: 'The `clientMutationId` of the input, when one was given.',
    resolve: (p) => p.clientMutationId,
  }),
  replayed: t.boolean({
    description:
      'True when this is the stored result of an earlier call with the same idempotency key: nothing was written this time.',
    resolve: (p) => p.replayed,
  }),
});

// ---- the idempotency key ----------------------------------------------------------------------

export const IDEMPOTENCY_HEADER = 'idempotency-key';

const MAX_KEY_LENGTH = 255;
const KEY_PATTERN = new RegExp(`^[\\x21-\\x7e]{1,${MAX_KEY_LENGTH}}$`);

/**
 * The idempotency key of a call: `input.clientMutationId`, else the `Idempotency-Key` header; both
 * given and different, or a key of the wrong shape, is invalid input (README "Idempotency").
 */
function idempotencyKey(ctx: Context, given: string | null | undefined): string | undefined {
  const header = ctx.request.headers.get(IDEMPOTENCY_HEADER) ?? undefined;
  if (given != null && header !== undefined && given !== header) {
    throw invalidInput({
      path: ['input', 'clientMutationId'],
      message: 'differs from the Idempotency-Key header; send one key, or the same in both',
    });
  }
  const key = given ?? header;
  if (key !== undefined && !KEY_PATTERN.test(key)) {
    throw invalidInput({
      path: ['input', 'clientMutationId'],
      message: `an idempotency key must have 1 to ${MAX_KEY_LENGTH} printable ASCII characters without spaces`,
    });
  }
  return key;
}

/** Runs a write once per idempotency key (src/directory/writes/run.ts). */
export async function runMutation<T extends object>(
  ctx: Context,
  mutation: string,
  input: { clientMutationId?: string | null | undefined },
  execute: (run: RunInfo) => Promise<T>,
): Promise<T & PayloadBase> {
  const key = idempotencyKey(ctx, input.clientMutationId);
  return ctx.directory.run(mutation, key, input, execute);
}
