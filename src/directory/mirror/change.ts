import type { ScimGroup, ScimUser } from '../../scim/schemas.ts';
import {
  type Change,
  type ChangeSource,
  classify,
  type GroupData,
  groupData,
  type MirrorGroup,
  type Snapshot,
  USER_FIELDS,
  type UserData,
  userData,
} from './snapshot.ts';

// Changes are made in two places, always by comparing a state before with a state after:
// - a refresh compares the mirror with a fresh read of the node (source UPSTREAM);
// - this service's writes compare the mirror with what the upstream answered (THIS_SERVICE).
// A refresh's read can be older than a write this service made while it ran: what a write
// touched after the read started is left out of that refresh's diff (the next refresh sees the
// upstream's word on it), so a slow refresh never undoes a write the caller has already seen.

type Base = { time: string; source: ChangeSource };

/** Keys of what a write touched, for `diffSnapshots`' `skip`. */
export const touchKey = {
  user: (id: string) => `u:${id}`,
  group: (id: string) => `g:${id}`,
  member: (groupId: string, userId: string) => `m:${groupId}:${userId}`,
};

const kindPrefix = (kind: 'Team' | 'Role') => (kind === 'Team' ? 'TEAM' : 'ROLE');

/** USER_CREATED / USER_UPDATED (with the fields) / USER_LOCKED / USER_UNLOCKED / USER_REMOVED. */
export function userChanges(
  old: UserData | undefined,
  next: UserData | undefined,
  base: Base,
): Change[] {
  if (!next) return old ? [{ ...base, type: 'USER_REMOVED', userId: old.id }] : [];
  const about = { ...base, userId: next.id, user: next };
  if (!old) return [{ ...about, type: 'USER_CREATED' }];
  const changes: Change[] = [];
  const fields = USER_FIELDS.filter((f) => old[f] !== next[f]);
  if (fields.length > 0) changes.push({ ...about, type: 'USER_UPDATED', fields });
  if (old.active !== next.active) {
    changes.push({ ...about, type: next.active ? 'USER_UNLOCKED' : 'USER_LOCKED' });
  }
  return changes;
}

/**
 * *_CREATED / *_RENAMED / *_UPDATED (externalId) / *_DELETED. A rename across the role prefix
 * turns a team into a role (docs/keeper-scim.md §7): the old kind is deleted and the new created.
 */
export function groupChanges(
  old: MirrorGroup | undefined,
  next: GroupData | undefined,
  rolePrefix: string,
  base: Base,
): Change[] {
  const deleted = (g: MirrorGroup): Change => ({
    ...base,
    type: `${kindPrefix(g.kind)}_DELETED`,
    groupId: g.id,
  });
  if (!next) return old ? [deleted(old)] : [];
  const kind = kindOf(next, rolePrefix);
  const about = { ...base, groupId: next.id, group: next };
  const created: Change = { ...about, type: `${kindPrefix(kind)}_CREATED` };
  if (!old) return [created];
  if (old.kind !== kind) return [deleted(old), created];
  const changes: Change[] = [];
  if (old.displayName !== next.displayName) {
    changes.push({ ...about, type: `${kindPrefix(kind)}_RENAMED` });
  }
  if (old.externalId !== next.externalId) {
    changes.push({ ...about, type: `${kindPrefix(kind)}_UPDATED`, fields: ['externalId'] });
  }
  return changes;
}

const kindOf = (g: GroupData, rolePrefix: string) => classify(g, rolePrefix).kind;

function memberChange(
  type: 'MEMBER_ADDED' | 'MEMBER_REMOVED',
  groupId: string,
  kind: 'Team' | 'Role',
  userId: string,
  base: Base,
): Change {
  return { ...base, type, groupId, groupKind: kindPrefix(kind), userId };
}

/**
 * The changes that turn `from` into `to`, in an order that applies cleanly: groups created
 * (and renamed), users created and changed, memberships, users removed, groups deleted. Users
 * removed and groups deleted take their memberships with them (no MEMBER_REMOVED for those).
 * `skip(key)` leaves out what a write touched after `to` was read (see touchKey).
 */
export function diffSnapshots(
  from: Snapshot,
  to: Snapshot,
  base: Base,
  skip: (key: string) => boolean = () => false,
): Change[] {
  const prefix = from.rolePrefix;
  const groupsUp: Change[] = [];
  const groupsDown: Change[] = [];
  /** Groups whose members start from nothing (new, or a new kind). */
  const fresh = new Set<string>();
  for (const next of to.groups.values()) {
    if (skip(touchKey.group(next.id))) continue;
    const old = from.groups.get(next.id);
    if (!old || old.kind !== next.kind) fresh.add(next.id);
    groupsUp.push(...groupChanges(old, next, prefix, base));
  }
  for (const old of from.groups.values()) {
    if (!to.groups.has(old.id) && !skip(touchKey.group(old.id))) {
      groupsDown.push(...groupChanges(old, undefined, prefix, base));
    }
  }

  const usersUp: Change[] = [];
  const usersDown: Change[] = [];
  for (const next of to.users.values()) {
    if (skip(touchKey.user(next.id))) continue;
    usersUp.push(...userChanges(from.users.get(next.id), next, base));
  }
  for (const old of from.users.values()) {
    if (!to.users.has(old.id) && !skip(touchKey.user(old.id))) {
      usersDown.push(...userChanges(old, undefined, base));
    }
  }

  const members: Change[] = [];
  for (const next of to.groups.values()) {
    const old = fresh.has(next.id) ? undefined : from.groups.get(next.id);
    for (const userId of next.members) {
      if (old?.members.has(userId) || skip(touchKey.member(next.id, userId))) continue;
      members.push(memberChange('MEMBER_ADDED', next.id, next.kind, userId, base));
    }
    for (const userId of old?.members ?? []) {
      if (next.members.has(userId) || !to.users.has(userId)) continue;
      if (skip(touchKey.member(next.id, userId))) continue;
      members.push(memberChange('MEMBER_REMOVED', next.id, next.kind, userId, base));
    }
  }
  return [...groupsUp, ...usersUp, ...members, ...usersDown, ...groupsDown];
}

/** What one of this service's successful writes did, as the upstream answered it. */
export type MirrorWrite =
  /** A user created, updated, locked or unlocked; `groups`, when present, are its memberships. */
  | { kind: 'user'; mutation: string; user: ScimUser }
  | { kind: 'userRemoved'; mutation: string; userId: string }
  /** A team or role created or renamed; `members`, when present, are its members. */
  | { kind: 'group'; mutation: string; group: ScimGroup }
  | { kind: 'groupDeleted'; mutation: string; groupId: string }
  | {
      kind: 'members';
      mutation: string;
      groupId: string;
      added?: readonly string[];
      removed?: readonly string[];
    };

/**
 * Applies a write to the snapshot at once (read-your-writes) and returns the changes it made and
 * the keys it touched (every object it wrote, even where the mirror already agreed: a refresh
 * older than the write must not undo it).
 */
export function applyWrite(
  snapshot: Snapshot,
  write: MirrorWrite,
  time: string,
): { changes: Change[]; touched: string[] } {
  const base: Base = { time, source: { kind: 'THIS_SERVICE', mutation: write.mutation } };
  const changes: Change[] = [];
  const touched: string[] = [];
  const membership = (groupId: string, userId: string, add: boolean) => {
    touched.push(touchKey.member(groupId, userId));
    const group = snapshot.groups.get(groupId);
    if (!group || (!add && !group.members.has(userId))) return;
    if (add && (group.members.has(userId) || !snapshot.users.has(userId))) return;
    changes.push(
      memberChange(add ? 'MEMBER_ADDED' : 'MEMBER_REMOVED', groupId, group.kind, userId, base),
    );
  };
  switch (write.kind) {
    case 'user': {
      const next = userData(write.user);
      const old = snapshot.users.get(next.id);
      touched.push(touchKey.user(next.id));
      changes.push(...userChanges(old, next, base));
      if (write.user.groups !== undefined) {
        // Applied in order, so the user exists before its memberships.
        for (const c of changes) snapshot.apply(c);
        const now = new Set(write.user.groups.map((g) => g.value));
        const before = new Set(old?.groups ?? []);
        for (const id of now) if (!before.has(id)) membership(id, next.id, true);
        for (const id of before) if (!now.has(id)) membership(id, next.id, false);
      }
      break;
    }
    case 'userRemoved':
      touched.push(touchKey.user(write.userId));
      changes.push(...userChanges(snapshot.users.get(write.userId), undefined, base));
      break;
    case 'group': {
      const next = groupData(write.group);
      const old = snapshot.groups.get(next.id);
      touched.push(touchKey.group(next.id));
      changes.push(...groupChanges(old, next, snapshot.rolePrefix, base));
      if (write.group.members !== undefined) {
        for (const c of changes) snapshot.apply(c);
        const now = new Set(write.group.members.map((m) => m.value));
        const before = snapshot.groups.get(next.id)?.members ?? new Set<string>();
        for (const id of now) if (!before.has(id)) membership(next.id, id, true);
        for (const id of [...before]) if (!now.has(id)) membership(next.id, id, false);
      }
      break;
    }
    case 'groupDeleted':
      touched.push(touchKey.group(write.groupId));
      changes.push(
        ...groupChanges(snapshot.groups.get(write.groupId), undefined, snapshot.rolePrefix, base),
      );
      break;
    case 'members':
      for (const id of write.added ?? []) membership(write.groupId, id, true);
      for (const id of write.removed ?? []) membership(write.groupId, id, false);
      break;
  }
  for (const c of changes) snapshot.apply(c);
  return { changes, touched };
}
