import { z } from 'zod';
import type { Context } from '../context.ts';
import { classifyGroup, type GroupModel, type RoleModel, type TeamModel } from '../model.ts';
import type { PayloadBase } from '../mutations/run.ts';
import { ScimInvalidRequestError, ScimNotFoundError } from '../scim/errors.ts';
import type { ScimGroup } from '../scim/schemas.ts';
import type { builder } from './builder.ts';
import { invalidInput, type NodeTypename, NotFoundError } from './errors.ts';

// Building blocks shared by user-, team- and role-mutations.ts: the validation rules that need no
// upstream (zod, run by the validation plugin before the resolver), the rules that depend on the
// node's role prefix (zod too, but run in the resolver since the prefix is runtime state), and the
// look-ups that name the missing object after an upstream 404.

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

export const roleGroupName = (ctx: Context, name: string) => `${ctx.upstream.rolePrefix}${name}`;

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

// ---- reading what a 404 was about -------------------------------------------------------------

export function groupModel(ctx: Context, group: ScimGroup): GroupModel {
  return classifyGroup(group, ctx.upstream.rolePrefix);
}

/** The team or role behind `keeperId`, read fresh; NotFoundError when absent or of the other kind. */
export async function requireGroup(
  ctx: Context,
  typename: 'Team',
  keeperId: string,
): Promise<TeamModel>;
export async function requireGroup(
  ctx: Context,
  typename: 'Role',
  keeperId: string,
): Promise<RoleModel>;
export async function requireGroup(
  ctx: Context,
  typename: 'Team' | 'Role',
  keeperId: string,
): Promise<GroupModel> {
  let group: ScimGroup;
  try {
    group = await ctx.scim.groups.get(keeperId, ctx.call);
  } catch (error) {
    if (error instanceof ScimNotFoundError) throw new NotFoundError(typename, keeperId);
    throw error;
  }
  const model = groupModel(ctx, group);
  if (model.kind !== typename) throw new NotFoundError(typename, keeperId);
  return model;
}

/**
 * After a 404 from a write that named several objects: the first one that does not exist, read
 * fresh, in the order given. Returns undefined when all exist (the 404 meant something else).
 */
export async function findMissing(
  ctx: Context,
  refs: { typename: NodeTypename; keeperId: string }[],
): Promise<NotFoundError | undefined> {
  ctx.directory.invalidate();
  const users = refs.filter((r) => r.typename === 'User').map((r) => r.keeperId);
  const [found, snapshot] = await Promise.all([
    ctx.directory.reads.users.byId.loadMany(users),
    refs.some((r) => r.typename !== 'User') ? ctx.directory.groups() : undefined,
  ]);
  const present = new Set(
    found.filter((u) => u !== null && !(u instanceof Error)).map((u) => (u as { id: string }).id),
  );
  for (const ref of refs) {
    if (ref.typename === 'User') {
      if (!present.has(ref.keeperId)) return new NotFoundError('User', ref.keeperId);
    } else if (snapshot?.byId.get(ref.keeperId)?.kind !== ref.typename) {
      return new NotFoundError(ref.typename, ref.keeperId);
    }
  }
  return undefined;
}

/**
 * Before a write that names users as members: on an upstream that is not Keeper, the NotFoundError
 * of the first user that does not exist. Keeper answers an unknown member with a 404, which
 * explainNotFound names; other servers may answer 400 or, worse, drop the id silently.
 */
export async function requireMembers(ctx: Context, userIds: readonly string[]): Promise<void> {
  if (ctx.upstream.kind === 'keeper' || userIds.length === 0) return;
  const missing = await findMissing(
    ctx,
    userIds.map((keeperId) => ({ typename: 'User' as const, keeperId })),
  );
  if (missing) throw missing;
}

/**
 * Maps a refused write to the NotFoundError of the object it named that does not exist, else
 * rethrows: Keeper answers 404 for an unknown id, other SCIM servers 400 invalidValue.
 */
export async function explainNotFound(
  ctx: Context,
  error: unknown,
  refs: { typename: NodeTypename; keeperId: string }[],
): Promise<never> {
  if (
    error instanceof ScimNotFoundError ||
    (error instanceof ScimInvalidRequestError && error.scimType === 'invalidValue')
  ) {
    const missing = await findMissing(ctx, refs);
    if (missing) throw missing;
  }
  throw error;
}
