import { createHash, randomUUID } from 'node:crypto';
import { groupLockName, groupNameLockName, type HeldLock } from '../../locks.ts';
import type { GroupModel, RoleModel, TeamModel } from '../../model.ts';
import type { UpstreamCall } from '../../scim/client.ts';
import {
  ScimConflictError,
  ScimError,
  ScimNotFoundError,
  ScimUnavailableError,
} from '../../scim/errors.ts';
import { groupEq } from '../../scim/filter.ts';
import { addMembers, removeMembers, renameGroup as renameOperation } from '../../scim/patch.ts';
import type { ScimGroup } from '../../scim/schemas.ts';
import {
  NameAlreadyInUseError,
  NotFoundError,
  OutcomeUnknownError,
  UnmanagedGroupError,
} from '../outcomes.ts';
import { createWithLookup } from './create.ts';
import { groupModel, type WriteEnv } from './env.ts';
import { asKind, explainNotFound, requireGroup, requireMembers, userRefs } from './lookups.ts';
import type { RunInfo } from './run.ts';

// Writes to /Groups shared by team and role mutations: a Keeper team and a Keeper role are both
// SCIM Groups, told apart by the role prefix of the displayName (docs/keeper-scim.md §7).

type Kind = 'Team' | 'Role';

type ModelOf<K extends Kind> = K extends 'Team' ? TeamModel : RoleModel;

/**
 * POST /Groups. A group always gets an externalId (a new UUID when the caller gives none): it
 * marks the group as SCIM-managed, as Keeper's own clients read it (docs/keeper-scim.md §8.15), and it
 * makes the look-up after a lost answer exact, since Keeper allows two groups with one name.
 */
export async function createGroup<K extends Kind>(
  ctx: WriteEnv,
  kind: K,
  input: {
    displayName: string;
    externalId?: string | null;
    memberIds: string[];
    allowDuplicateName?: boolean | null;
  },
  run: RunInfo,
): Promise<ModelOf<K>> {
  // Derived from the idempotency key when there is one: a repetition after an unknown outcome
  // must look for the externalId the first attempt sent.
  const externalId = input.externalId ?? (run.key ? uuidFrom(run.key) : randomUUID());
  if (input.allowDuplicateName) return createGroupNow(ctx, kind, input, externalId, run);
  return withNameLock(ctx, input.displayName, async (lock) => {
    // A group with this externalId is this create's own earlier attempt, which the look-up
    // below settles; it does not take the name.
    await requireNameFree(ctx, kind, input.displayName, (g) => g.group.externalId === externalId);
    await lock.assertHeld();
    return createGroupNow(ctx, kind, input, externalId, run);
  });
}

/** POST /Groups with `externalId`, once the name is known free (or allowed twice). */
async function createGroupNow<K extends Kind>(
  ctx: WriteEnv,
  kind: K,
  input: { displayName: string; memberIds: string[] },
  externalId: string,
  run: RunInfo,
): Promise<ModelOf<K>> {
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
    return asKind(kind, groupModel(ctx, group));
  } catch (error) {
    if (error instanceof ScimConflictError) throw await nameTaken(ctx, kind, input.displayName);
    return explainNotFound(ctx, error, userRefs(input.memberIds));
  }
}

/** The groups that have `displayName`, compared without case, read fresh. */
async function groupsNamed(ctx: WriteEnv, displayName: string): Promise<GroupModel[]> {
  return ctx.reads().groups.whereFresh('displayName', displayName);
}

const bareName = (ctx: WriteEnv, kind: Kind, displayName: string) =>
  kind === 'Role' ? displayName.slice(ctx.upstream.rolePrefix.length) : displayName;

/**
 * NameAlreadyInUseError when another group already has `displayName` (compared without case).
 * Keeper would make a second group with the name, a server with unique names a 409.
 */
async function requireNameFree(
  ctx: WriteEnv,
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
async function nameTaken(
  ctx: WriteEnv,
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
async function patchMembers(
  ctx: WriteEnv,
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
      ...userRefs(change.add),
    ]);
  }
}

/** A PATCH whose answer was lost: done when the group now has the change, else as failed. */
async function settleMemberChange(
  ctx: WriteEnv,
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
async function readAfterWrite(ctx: WriteEnv, kind: Kind, groupId: string): Promise<ScimGroup> {
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
export const changeMembers = <K extends Kind>(
  ctx: WriteEnv,
  kind: K,
  groupId: string,
  change: MemberChange,
): Promise<ModelOf<K>> =>
  withGroupLock(ctx, groupId, async (lock) => {
    await lock.assertHeld();
    return asKind(kind, await patchMembers(ctx, kind, groupId, change));
  });

/**
 * Makes the group have exactly `wanted` as members: reads the current members, then sends the
 * difference as one PATCH (none when nothing differs), all under the group's lock, so that no
 * other write to the group comes between the read and the write.
 */
export const setMembers = <K extends Kind>(
  ctx: WriteEnv,
  kind: K,
  groupId: string,
  wanted: readonly string[],
): Promise<{ group: ModelOf<K>; added: string[]; removed: string[] }> =>
  withGroupLock(ctx, groupId, async (lock) => {
    const group = await requireGroup(ctx, kind, groupId);
    const current = await currentMembers(ctx, group.group);
    const has = new Set(current);
    const toAdd = wanted.filter((id) => !has.has(id));
    const keep = new Set(wanted);
    const toRemove = current.filter((id) => !keep.has(id));
    if (toAdd.length + toRemove.length === 0) {
      return { group: group as ModelOf<K>, added: [], removed: [] };
    }
    await lock.assertHeld();
    const model = await patchMembers(ctx, kind, groupId, { add: toAdd, remove: toRemove });
    return { group: asKind(kind, model), added: toAdd, removed: toRemove };
  });

/**
 * Renames a group (`PATCH` replace `displayName`), after checking that no other group has the
 * name unless `allowDuplicateName`. Setting a name twice is setting it once: retried.
 */
export async function renameGroup<K extends Kind>(
  ctx: WriteEnv,
  kind: K,
  groupId: string,
  displayName: string,
  allowDuplicateName: boolean,
): Promise<ModelOf<K>> {
  if (allowDuplicateName) return renameGroupNow(ctx, kind, groupId, displayName);
  return withNameLock(ctx, displayName, async (lock) => {
    await requireNameFree(ctx, kind, displayName, (g) => g.group.id === groupId);
    await lock.assertHeld();
    return renameGroupNow(ctx, kind, groupId, displayName);
  });
}

/** PATCH replace `displayName`, once the name is known free (or allowed twice). */
async function renameGroupNow<K extends Kind>(
  ctx: WriteEnv,
  kind: K,
  groupId: string,
  displayName: string,
): Promise<ModelOf<K>> {
  try {
    const answer = await ctx.scim.groups.patch(groupId, renameOperation(displayName), {
      ...ctx.call,
      idempotent: true,
    });
    const group = answer ?? (await ctx.scim.groups.get(groupId, ctx.call));
    return asKind(kind, groupModel(ctx, group));
  } catch (error) {
    if (error instanceof ScimNotFoundError) throw new NotFoundError(kind, groupId);
    if (error instanceof ScimConflictError) throw await nameTaken(ctx, kind, displayName, groupId);
    throw error;
  }
}

/** The member ids of a group, read fresh: from Group.members, else from the users' groups. */
async function currentMembers(ctx: WriteEnv, group: ScimGroup): Promise<string[]> {
  if (group.members !== undefined) return group.members.map((m) => m.value);
  ctx.invalidate();
  return (await ctx.reads().membership.membershipIndex()).get(group.id) ?? [];
}

/**
 * Runs a read-then-write of one group holding its write lock (all replicas, with a shared
 * store), so that what was read is still true when the write goes out. Waiting ends with the
 * request's deadline; call `lock.assertHeld()` right before writing.
 */
function withGroupLock<T>(
  ctx: WriteEnv,
  groupId: string,
  fn: (lock: HeldLock) => Promise<T>,
): Promise<T> {
  return ctx.locks.withLock(groupLockName(groupId), fn, {
    signal: ctx.call.signal,
    deadline: ctx.call.deadline,
  });
}

/** Runs a name check and the write that takes the name holding the name's lock (see withGroupLock). */
function withNameLock<T>(
  ctx: WriteEnv,
  displayName: string,
  fn: (lock: HeldLock) => Promise<T>,
): Promise<T> {
  return ctx.locks.withLock(groupNameLockName(displayName), fn, {
    signal: ctx.call.signal,
    deadline: ctx.call.deadline,
  });
}

/** DELETE /Groups/{id}, after checking it is this kind of group and SCIM-managed. */
export function deleteGroup(ctx: WriteEnv, kind: Kind, groupId: string): Promise<void> {
  return withGroupLock(ctx, groupId, async (lock) => {
    const model = await requireGroup(ctx, kind, groupId);
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
