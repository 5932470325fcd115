import type { Context } from '../context.ts';
import type { UserModel } from '../model.ts';
import { findMissing } from '../schema/mutation.ts';
import { addMembers } from '../scim/patch.ts';

// Writes to /Users that cannot assume Keeper's dialect.
//
// Memberships at creation: Keeper applies `groups` in a `POST /Users` body; RFC 7643 §4.1 makes
// User.groups read-only, so other servers ignore it and answer a user without the groups. The
// create therefore checks the created user: every requested group it does not show is joined with
// its own `PATCH /Groups/{id}` (`add` `members`), all in parallel. What the upstream did is
// remembered in `upstream.capabilities.userGroupsOnCreate`: once it is known to ignore `groups`,
// the POST no longer carries them.

export type GroupRef = { typename: 'Team' | 'Role'; keeperId: string };

/**
 * Throws the NotFoundError of the first referenced team or role that does not exist (read fresh,
 * one Groups listing), before anything is written.
 */
export async function requireGroups(ctx: Context, refs: readonly GroupRef[]): Promise<void> {
  if (refs.length === 0) return;
  const missing = await findMissing(ctx, [...refs]);
  if (missing) throw missing;
}

/** Whether the POST body should carry `groups` (unless the upstream is known to ignore them). */
export const sendGroupsOnCreate = (ctx: Context) =>
  ctx.upstream.capabilities.userGroupsOnCreate !== 'ignored';

/**
 * Makes `user` a member of every group in `groupIds` it does not show yet, one `PATCH /Groups`
 * per group in parallel, and returns the user as the upstream now has it. Adding a member twice
 * is a no-op (RFC 7644 §3.5.2.1), so each PATCH may be retried. When one still fails, the user
 * is deleted again and the failure thrown: the create is reported only when every membership
 * holds.
 */
export async function ensureMemberships(
  ctx: Context,
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
