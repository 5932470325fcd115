import { createHash, randomUUID } from 'node:crypto';
import type { Context } from '../context.ts';
import { groupLockName, type HeldLock } from '../locks.ts';
import type { GroupModel } from '../model.ts';
import {
  NameAlreadyInUseError,
  OutcomeUnknownError,
  UnmanagedGroupError,
} from '../schema/errors.ts';
import { explainNotFound, groupModel, requireGroup, requireMembers } from '../schema/mutation.ts';
import type { UpstreamCall } from '../scim/client.ts';
import {
  ScimConflictError,
  ScimError,
  ScimNotFoundError,
  ScimUnavailableError,
} from '../scim/errors.ts';
import { groupEq } from '../scim/filter.ts';
import { addMembers, removeMembers } from '../scim/patch.ts';
import type { ScimGroup } from '../scim/schemas.ts';
import { createWithLookup } from './create.ts';
import type { RunInfo } from './run.ts';

// Writes to /Groups shared by team and role mutations: a Keeper team and a Keeper role are both
// SCIM Groups, told apart by the role prefix of the displayName (docs/keeper-scim.md §7).

type Kind = 'Team' | 'Role';

/**
 * POST /Groups. A group always gets an externalId (a new UUID when the caller gives none): it
 * marks the group as SCIM-managed, as Keeper's own clients read it (docs/keeper-scim.md §8.15), and it
 * makes the look-up after a lost answer exact, since Keeper allows two groups with one name.
 */
export async function createGroup(
  ctx: Context,
  kind: Kind,
  input: {
    displayName: string;
    externalId?: string | null;
    memberIds: string[];
    allowDuplicateName?: boolean | null;
  },
  run: RunInfo,
): Promise<GroupModel> {
  // Derived from the idempotency key when there is one: a repetition after an unknown outcome
  // must look for the externalId the first attempt sent.
  const externalId = input.externalId ?? (run.key ? uuidFrom(run.key) : randomUUID());
  if (!input.allowDuplicateName) {
    // A group with this externalId is this create's own earlier attempt, which the look-up
    // below settles; it does not take the name.
    await requireNameFree(ctx, kind, input.displayName, (g) => g.group.externalId === externalId);
  }
  await requireMembers(ctx, input.memberIds);
  const lookup = async (): Promise<ScimGroup | null> => {
    const page = await ctx.scim.groups.list(
      { filter: groupEq('externalId', externalId), startIndex: 1, count: 10 },
      ctx.call,
    );
    return (
      page.Resources.find(
        (g) => g.externalId === externalId && g.displayName === input.displayName,
      ) ?? null
    );
  };
  try {
    const group = await createWithLookup({
      typename: kind,
      describeLookup: `externalId "${externalId}"`,
      create: () =>
        ctx.scim.groups.create(
          {
            displayName: input.displayName,
            externalId,
            ...(input.memberIds.length > 0
              ? { members: input.memberIds.map((value) => ({ value })) }
              : {}),
          },
          ctx.call,
        ),
      lookup,
      previousUncertain: run.previousUncertain,
      // Keeper allows two teams with one name (docs/keeper-scim.md §9.15).
      upstreamRefusesDuplicates: false,
    });
    return groupModel(ctx, group);
  } catch (error) {
    if (error instanceof ScimConflictError) throw await nameTaken(ctx, kind, input.displayName);
    return explainNotFound(
      ctx,
      error,
      input.memberIds.map((keeperId) => ({ typename: 'User' as const, keeperId })),
    );
  }
}

/** The groups that have `displayName`, compared without case, read fresh. */
async function groupsNamed(ctx: Context, displayName: string): Promise<GroupModel[]> {
  return ctx.directory.reads.groups.whereFresh('displayName', displayName);
}

const bareName = (ctx: Context, kind: Kind, displayName: string) =>
  kind === 'Role' ? displayName.slice(ctx.upstream.rolePrefix.length) : displayName;

/**
 * NameAlreadyInUseError when another group already has `displayName` (compared without case).
 * Keeper would make a second group with the name, a server with unique names a 409.
 */
export async function requireNameFree(
  ctx: Context,
  kind: Kind,
  displayName: string,
  isSelf: (g: GroupModel) => boolean,
): Promise<void> {
  const others = (await groupsNamed(ctx, displayName)).filter((g) => !isSelf(g));
  if (others.length > 0) {
    throw new NameAlreadyInUseError(
      kind,
      bareName(ctx, kind, displayName),
      others.map((g) => g.group.id),
    );
  }
}

/** A 409 on a group write: the name is taken (RFC 7644 uniqueness); names who has it. */
export async function nameTaken(
  ctx: Context,
  kind: Kind,
  displayName: string,
  selfId?: string,
): Promise<NameAlreadyInUseError> {
  const holders = await groupsNamed(ctx, displayName).catch(() => []);
  return new NameAlreadyInUseError(
    kind,
    bareName(ctx, kind, displayName),
    holders.filter((g) => g.group.id !== selfId).map((g) => g.group.id),
  );
}

/** Members to add to and remove from a group in one PATCH. */
export type MemberChange = { add: readonly string[]; remove: readonly string[] };

/**
 * One PATCH of a group's members. Adding a member twice or removing an absent one is a no-op
 * in SCIM (RFC 7644 §3.5.2.1, §3.5.2.2), so the PATCH may be retried on upstream failures. When
 * the retries run out after the request was sent (a 5xx, a reset), the PATCH may have been
 * applied: the group is read again, and the change counts as done when it holds. When that read
 * fails too, the outcome is unknown (OutcomeUnknownError), never "failed".
 */
export async function patchMembers(
  ctx: Context,
  kind: Kind,
  groupId: string,
  change: MemberChange,
): Promise<GroupModel> {
  await requireMembers(ctx, change.add);
  const operations = [...addMembers([...change.add]), ...removeMembers([...change.remove])];
  // Whether any attempt may have been applied: one whose answer was lost or was a 5xx. The last
  // attempt's error alone does not tell (a reset, then a 429 that ends the retries).
  let mayBeApplied = false;
  const call = {
    ...ctx.call,
    onCall: (attempt: UpstreamCall) => {
      if (attempt.errorCode === 'UPSTREAM_UNAVAILABLE') mayBeApplied = true;
      ctx.call.onCall?.(attempt);
    },
  };
  try {
    const answer = await ctx.scim.groups.patch(groupId, operations, { ...call, idempotent: true });
    return groupModel(ctx, answer ?? (await readAfterWrite(ctx, kind, groupId)));
  } catch (error) {
    if (
      (error instanceof ScimUnavailableError && error.requestSent) ||
      (mayBeApplied && error instanceof ScimError)
    ) {
      return settleMemberChange(ctx, kind, groupId, change, error);
    }
    return explainNotFound(ctx, error, [
      { typename: kind, keeperId: groupId },
      ...change.add.map((keeperId) => ({ typename: 'User' as const, keeperId })),
    ]);
  }
}

/** A PATCH whose answer was lost: done when the group now has the change, else as failed. */
async function settleMemberChange(
  ctx: Context,
  kind: Kind,
  groupId: string,
  change: MemberChange,
  failure: ScimError,
): Promise<GroupModel> {
  let group: ScimGroup;
  let members: Set<string>;
  try {
    group = await ctx.scim.groups.get(groupId, ctx.call);
    members = new Set(await currentMembers(ctx, group));
  } catch {
    throw new OutcomeUnknownError(
      kind,
      `keeperId "${groupId}"`,
      `${failure.message}, and reading the ${kind.toLowerCase()} again failed too`,
      'changed',
    );
  }
  const holds =
    change.add.every((id) => members.has(id)) && change.remove.every((id) => !members.has(id));
  if (holds) return groupModel(ctx, group);
  throw failure;
}

/**
 * The group after a write that answered 204 (no body). The write was applied, so a failed read is
 * not a failed write: the outcome is reported as unknown rather than as an upstream failure.
 */
async function readAfterWrite(ctx: Context, kind: Kind, groupId: string): Promise<ScimGroup> {
  try {
    return await ctx.scim.groups.get(groupId, ctx.call);
  } catch (error) {
    if (error instanceof ScimNotFoundError) throw error;
    throw new OutcomeUnknownError(
      kind,
      `keeperId "${groupId}"`,
      'the change was applied, but reading it back failed',
      'changed',
    );
  }
}

/**
 * Adds or removes members under the group's lock: a lost answer is settled by reading the group
 * (patchMembers), and no other change of the group may come between the write and that read.
 */
const changeMembers = (ctx: Context, kind: Kind, groupId: string, change: MemberChange) =>
  withGroupLock(ctx, groupId, async (lock) => {
    await lock.assertHeld();
    return patchMembers(ctx, kind, groupId, change);
  });

export const addMembersOf = (ctx: Context, kind: Kind, groupId: string, userIds: string[]) =>
  changeMembers(ctx, kind, groupId, { add: userIds, remove: [] });

export const removeMembersOf = (ctx: Context, kind: Kind, groupId: string, userIds: string[]) =>
  changeMembers(ctx, kind, groupId, { add: [], remove: userIds });

/** The member ids of a group, read fresh: from Group.members, else from the users' groups. */
export async function currentMembers(ctx: Context, group: ScimGroup): Promise<string[]> {
  if (group.members !== undefined) return group.members.map((m) => m.value);
  ctx.directory.invalidate();
  return (await ctx.directory.reads.membership.membershipIndex()).get(group.id) ?? [];
}

/**
 * Runs a read-then-write of one group holding its write lock (all replicas, with a shared
 * store), so that what was read is still true when the write goes out. Waiting ends with the
 * request's deadline; call `lock.assertHeld()` right before writing.
 */
export function withGroupLock<T>(
  ctx: Context,
  groupId: string,
  fn: (lock: HeldLock) => Promise<T>,
): Promise<T> {
  return ctx.locks.withLock(groupLockName(groupId), fn, {
    signal: ctx.call.signal,
    deadline: ctx.call.deadline,
  });
}

/** DELETE /Groups/{id}, after checking it is this kind of group and SCIM-managed. */
export function deleteGroup(ctx: Context, kind: Kind, groupId: string): Promise<void> {
  return withGroupLock(ctx, groupId, async (lock) => {
    const model =
      kind === 'Team'
        ? await requireGroup(ctx, 'Team', groupId)
        : await requireGroup(ctx, 'Role', groupId);
    if (!model.group.externalId) throw new UnmanagedGroupError(kind, groupId);
    await lock.assertHeld();
    try {
      await ctx.scim.groups.delete(groupId, ctx.call);
    } catch (error) {
      return explainNotFound(ctx, error, [{ typename: kind, keeperId: groupId }]);
    }
  });
}

/** A UUID-shaped externalId that is a function of `seed` (SHA-256, RFC 9562 v8 layout). */
function uuidFrom(seed: string): string {
  const h = createHash('sha256').update(seed).digest();
  h[6] = ((h[6] ?? 0) & 0x0f) | 0x80;
  h[8] = ((h[8] ?? 0) & 0x3f) | 0x80;
  const hex = h.subarray(0, 16).toString('hex');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}
