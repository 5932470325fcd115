import type { GroupModel, RoleModel, TeamModel } from '../../model.ts';
import { ScimInvalidRequestError, ScimNotFoundError } from '../../scim/errors.ts';
import type { ScimGroup } from '../../scim/schemas.ts';
import { type NodeTypename, NotFoundError } from '../outcomes.ts';
import { groupModel, type WriteEnv } from './env.ts';

// Reading what a write is about: the group it changes, and after a 404 the object the input named
// that does not exist.

/** An object a write names, by its kind and Keeper id. */
export type Ref = { typename: NodeTypename; keeperId: string };

/** The team or role behind `keeperId`, read fresh; NotFoundError when absent or of the other kind. */
export async function requireGroup(
  env: WriteEnv,
  typename: 'Team',
  keeperId: string,
): Promise<TeamModel>;
export async function requireGroup(
  env: WriteEnv,
  typename: 'Role',
  keeperId: string,
): Promise<RoleModel>;
export async function requireGroup(
  env: WriteEnv,
  typename: 'Team' | 'Role',
  keeperId: string,
): Promise<GroupModel>;
export async function requireGroup(
  env: WriteEnv,
  typename: 'Team' | 'Role',
  keeperId: string,
): Promise<GroupModel> {
  let group: ScimGroup;
  try {
    group = await env.scim.groups.get(keeperId, env.call);
  } catch (error) {
    if (error instanceof ScimNotFoundError) throw new NotFoundError(typename, keeperId);
    throw error;
  }
  const model = groupModel(env, group);
  if (model.kind !== typename) throw new NotFoundError(typename, keeperId);
  return model;
}

/**
 * After a 404 from a write that named several objects: the first one that does not exist, read
 * fresh, in the order given. Returns undefined when all exist (the 404 meant something else).
 */
export async function findMissing(
  env: WriteEnv,
  refs: readonly Ref[],
): Promise<NotFoundError | undefined> {
  env.invalidate();
  const reads = env.reads();
  const users = refs.filter((r) => r.typename === 'User').map((r) => r.keeperId);
  const [found, snapshot] = await Promise.all([
    reads.users.byId.loadMany(users),
    refs.some((r) => r.typename !== 'User') ? reads.groups.snapshot() : undefined,
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

/** Throws the NotFoundError of the first of `refs` that does not exist, before any write. */
export async function requireAll(env: WriteEnv, refs: readonly Ref[]): Promise<void> {
  if (refs.length === 0) return;
  const missing = await findMissing(env, refs);
  if (missing) throw missing;
}

/** Users as references. */
export const userRefs = (ids: readonly string[]): Ref[] =>
  ids.map((keeperId) => ({ typename: 'User', keeperId }));

/**
 * Before a write that names users as members: on an upstream that is not Keeper, the NotFoundError
 * of the first user that does not exist. Keeper answers an unknown member with a 404, which
 * explainNotFound names; other servers may answer 400 or, worse, drop the id silently.
 */
export async function requireMembers(env: WriteEnv, userIds: readonly string[]): Promise<void> {
  if (env.upstream.kind === 'keeper') return;
  await requireAll(env, userRefs(userIds));
}

/**
 * Maps a refused write to the NotFoundError of the object it named that does not exist, else
 * rethrows: Keeper answers 404 for an unknown id, other SCIM servers 400 invalidValue.
 */
export async function explainNotFound(
  env: WriteEnv,
  error: unknown,
  refs: readonly Ref[],
): Promise<never> {
  if (
    error instanceof ScimNotFoundError ||
    (error instanceof ScimInvalidRequestError && error.scimType === 'invalidValue')
  ) {
    const missing = await findMissing(env, refs);
    if (missing) throw missing;
  }
  throw error;
}

/**
 * The written group must be of the kind asked. Only a forged global id (a role's Keeper id under
 * the Team typename, or the reverse) can make it otherwise; it is then reported as not found, as
 * the object asked for does not exist.
 */
export function asKind<K extends 'Team' | 'Role'>(
  kind: K,
  model: GroupModel,
): K extends 'Team' ? TeamModel : RoleModel {
  if (model.kind !== kind) throw new NotFoundError(kind, model.group.id);
  return model as K extends 'Team' ? TeamModel : RoleModel;
}
