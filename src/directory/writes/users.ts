import { type UserModel, userNameKey } from '../../model.ts';
import { ScimConflictError, ScimNotFoundError, ScimSeatLimitError } from '../../scim/errors.ts';
import { userEq } from '../../scim/filter.ts';
import { addMembers, replaceAttributes, setActive } from '../../scim/patch.ts';
import type { ScimUserInput } from '../../scim/schemas.ts';
import { EmailAlreadyInUseError, NotFoundError, SeatLimitReachedError } from '../outcomes.ts';
import { createWithLookup } from './create.ts';
import type { WriteEnv } from './env.ts';
import { explainNotFound, type Ref, requireAll } from './lookups.ts';
import type { RunInfo } from './run.ts';

// Writes to /Users: invite, change, replace, lock and unlock, deprovision.
//
// Memberships at creation: Keeper applies `groups` in a `POST /Users` body; RFC 7643 §4.1 makes
// User.groups read-only, so other servers ignore it and answer a user without the groups. The
// create therefore checks the created user: every requested group it does not show is joined with
// its own `PATCH /Groups/{id}` (`add` `members`), all in parallel. What the upstream did is
// remembered in `upstream.capabilities.userGroupsOnCreate`: once it is known to ignore `groups`,
// the POST no longer carries them.

/** Whether the POST body should carry `groups` (unless the upstream is known to ignore them). */
const sendGroupsOnCreate = (ctx: WriteEnv) =>
  ctx.upstream.capabilities.userGroupsOnCreate !== 'ignored';

/**
 * Makes `user` a member of every group in `groupIds` it does not show yet, one `PATCH /Groups`
 * per group in parallel, and returns the user as the upstream now has it. Adding a member twice
 * is a no-op (RFC 7644 §3.5.2.1), so each PATCH may be retried. When one still fails, the user
 * is deleted again and the failure thrown: the create is reported only when every membership
 * holds.
 */
async function ensureMemberships(
  ctx: WriteEnv,
  user: UserModel,
  groupIds: readonly string[],
  sentInBody: boolean,
): Promise<UserModel> {
  if (groupIds.length === 0) return user;
  const shown = new Set((user.groups ?? []).map((g) => g.value));
  const missing = groupIds.filter((id) => !shown.has(id));
  if (sentInBody) ctx.upstream.observeUserGroupsOnCreate(missing.length === 0);
  if (missing.length === 0) return user;
  const patches = await Promise.allSettled(
    missing.map((groupId) =>
      ctx.scim.groups.patch(groupId, addMembers([user.id]), { ...ctx.call, idempotent: true }),
    ),
  );
  const failed = patches.find((p): p is PromiseRejectedResult => p.status === 'rejected');
  if (failed) {
    // A failed createUser must not leave a user behind: remove the one just created (on an
    // upstream that ignores User.groups, DELETE deletes), then report the failure. When it cannot
    // be removed, it exists: its payload is the answer, and the membership that failed shows as
    // missing from `user { teams roles }`, which are read fresh.
    const removed = await ctx.scim.users.delete(user.id, ctx.call).then(
      () => true,
      () => false,
    );
    if (removed) throw failed.reason;
    return user;
  }
  let fresh: UserModel;
  try {
    fresh = await ctx.scim.users.get(user.id, ctx.call);
  } catch {
    // The user and its memberships are written; a failed read back does not undo that.
    fresh = user;
  }
  // A server that does not derive User.groups still holds the memberships just written.
  const known = new Set((fresh.groups ?? []).map((g) => g.value));
  const added = groupIds
    .filter((id) => !known.has(id))
    .map((value) => ({ value, display: undefined, type: undefined, $ref: undefined }));
  return added.length === 0 ? fresh : { ...fresh, groups: [...(fresh.groups ?? []), ...added] };
}

/** The attributes of a user a caller gives (a create, a replace). */
export type UserAttributes = {
  userName: string;
  displayName?: string | null;
  givenName?: string | null;
  familyName?: string | null;
  externalId?: string | null;
};

/** The SCIM body of a user: attributes left out (or empty) are not sent. */
function userBody(
  input: UserAttributes,
  active: boolean,
  groupIds: readonly string[] = [],
): ScimUserInput {
  return {
    userName: input.userName,
    ...(input.displayName ? { displayName: input.displayName } : {}),
    ...(input.externalId ? { externalId: input.externalId } : {}),
    ...(input.givenName || input.familyName
      ? {
          name: {
            ...(input.givenName ? { givenName: input.givenName } : {}),
            ...(input.familyName ? { familyName: input.familyName } : {}),
          },
        }
      : {}),
    ...(groupIds.length > 0 ? { groups: groupIds.map((value) => ({ value })) } : {}),
    active,
  };
}

/** A fresh look-up by userName (case-insensitive), and by externalId when one was given. */
async function findCreatedUser(
  ctx: WriteEnv,
  userName: string,
  externalId: string | undefined,
): Promise<UserModel | null> {
  const page = await ctx.scim.users.list(
    { filter: userEq('userName', userName), startIndex: 1, count: 10 },
    ctx.call,
  );
  return (
    page.Resources.find(
      (u) =>
        userNameKey(u.userName) === userNameKey(userName) &&
        (externalId === undefined || u.externalId === externalId),
    ) ?? null
  );
}

/** Typed outcomes of a write to /Users/{id}; anything else stays a top-level error. */
function userWriteError(error: unknown, id: string, userName?: string | null): never {
  if (error instanceof ScimNotFoundError) throw new NotFoundError('User', id);
  if (error instanceof ScimConflictError && userName) throw new EmailAlreadyInUseError(userName);
  throw error;
}

/**
 * A PATCH of /Users/{id} whose operations set values, so that repeating it is harmless and the
 * client may retry it; the user as the answer has it, or read again when the upstream answered
 * 204.
 */
async function patchUser(
  ctx: WriteEnv,
  id: string,
  operations: ReturnType<typeof setActive>,
  userName?: string | null,
): Promise<UserModel> {
  try {
    const answer = await ctx.scim.users.patch(id, operations, { ...ctx.call, idempotent: true });
    return answer ?? (await ctx.scim.users.get(id, ctx.call));
  } catch (error) {
    return userWriteError(error, id, userName);
  }
}

/**
 * Invites a user (`POST /Users`) into the given teams and roles. Never creates a user twice: a
 * lost answer is settled by a look-up by userName (writes/create.ts).
 */
export async function createUser(
  ctx: WriteEnv,
  input: UserAttributes & { teamIds: readonly string[]; roleIds: readonly string[] },
  run: RunInfo,
): Promise<UserModel> {
  const groupRefs: Ref[] = [
    ...input.teamIds.map((keeperId) => ({ typename: 'Team' as const, keeperId })),
    ...input.roleIds.map((keeperId) => ({ typename: 'Role' as const, keeperId })),
  ];
  // Nothing is written for a team or role that does not exist.
  await requireAll(ctx, groupRefs);
  const groupIds = [...input.teamIds, ...input.roleIds];
  const groupsInBody = groupIds.length > 0 && sendGroupsOnCreate(ctx);
  const body = userBody(input, true, groupsInBody ? groupIds : []);
  try {
    const user = await createWithLookup({
      typename: 'User',
      describeLookup: `userName "${input.userName}"`,
      create: () => ctx.scim.users.create(body, ctx.call),
      lookup: () => findCreatedUser(ctx, input.userName, input.externalId ?? undefined),
      previousUncertain: run.previousUncertain,
      // Keeper answers 409 to a second user with the same userName.
      upstreamRefusesDuplicates: true,
    });
    // An upstream that ignores User.groups (RFC 7643 read-only) gets one PATCH per group.
    return await ensureMemberships(ctx, user, groupIds, groupsInBody);
  } catch (error) {
    if (error instanceof ScimConflictError) throw new EmailAlreadyInUseError(input.userName);
    if (error instanceof ScimSeatLimitError) throw new SeatLimitReachedError();
    return explainNotFound(ctx, error, groupRefs);
  }
}

/** Changes of a user: `undefined` leaves an attribute as it is, `null` clears a clearable one. */
export type UserChanges = {
  userName?: string | undefined;
  displayName?: string | undefined;
  givenName?: string | null | undefined;
  familyName?: string | null | undefined;
  externalId?: string | null | undefined;
};

/** Whether `changes` changes anything. */
export const changesSomething = (changes: UserChanges) =>
  Object.values(changes).some((v) => v !== undefined);

/** `PATCH /Users/{id}` with one `replace` per attribute, `remove` for a cleared one. */
export const updateUser = (ctx: WriteEnv, id: string, changes: UserChanges) =>
  patchUser(
    ctx,
    id,
    replaceAttributes({
      userName: changes.userName,
      displayName: changes.displayName,
      externalId: changes.externalId,
      'name.givenName': changes.givenName,
      'name.familyName': changes.familyName,
    }),
    changes.userName,
  );

/** `PUT /Users/{id}`: every attribute; what is left out is cleared. */
export async function replaceUser(
  ctx: WriteEnv,
  id: string,
  input: UserAttributes & { active: boolean },
): Promise<UserModel> {
  try {
    return await ctx.scim.users.replace(id, userBody(input, input.active), ctx.call);
  } catch (error) {
    return userWriteError(error, id, input.userName);
  }
}

/** Locks (`active: false`) or unlocks a user; setting `active` twice is setting it once. */
export const setUserActive = (ctx: WriteEnv, id: string, active: boolean) =>
  patchUser(ctx, id, setActive(active));

export type Deprovisioned = {
  state: 'LOCKED' | 'DELETED';
  keeperId: string;
  user: UserModel | null;
};

/**
 * `DELETE /Users/{id}`: Keeper locks the user, other upstreams delete it; the user is read back to
 * tell which. A repeat answers the same state.
 */
export async function deprovisionUser(ctx: WriteEnv, id: string): Promise<Deprovisioned> {
  const deleted = { state: 'DELETED' as const, keeperId: id, user: null };
  try {
    await ctx.scim.users.delete(id, ctx.call);
  } catch (error) {
    // On an upstream that deletes, a repeat finds nothing: the user is as deleted as asked.
    if (error instanceof ScimNotFoundError && ctx.upstream.capabilities.userDelete === 'deletes') {
      return deleted;
    }
    return userWriteError(error, id);
  }
  // DELETE answers 204: the user is read back to tell a lock from a delete.
  let user: UserModel | null = null;
  try {
    user = await ctx.scim.users.get(id, ctx.call);
  } catch (error) {
    if (!(error instanceof ScimNotFoundError)) throw error;
  }
  ctx.upstream.observeUserDelete(user ? 'locks' : 'deletes');
  return user ? { state: 'LOCKED' as const, keeperId: id, user } : deleted;
}
