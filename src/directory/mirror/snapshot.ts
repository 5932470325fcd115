import { classifyGroup, type GroupModel, type UserModel } from '../../model.ts';
import type { ScimGroup, ScimUser } from '../../scim/schemas.ts';

// One node's directory as the mirror keeps it: users, groups (classified as teams and roles once,
// as src/model.ts does) and memberships both ways. Compact on purpose: a user is one flat object
// of the attributes the questions need (no `schemas`, no `meta`, no multi-valued wrappers, one
// e-mail), its memberships an array of group ids that share the group's own id string, and the
// sorted orders are arrays of references built on first use and kept up to date by `apply`.
// The snapshot changes only through `apply(event)`: a refresh's diff, this service's writes and
// a replica's stream all end up as the same events (change.ts), so every copy converges.

/** What a user carries; the state after a user event. */
export type UserData = {
  readonly id: string;
  readonly userName: string;
  /** Keeper defaults it to the userName (docs/keeper-scim.md §2.2); `undefined` when absent. */
  readonly displayName: string | undefined;
  readonly givenName: string | undefined;
  readonly familyName: string | undefined;
  /** The primary e-mail, else the first one. */
  readonly email: string | undefined;
  readonly externalId: string | undefined;
  /** `false` = locked in Keeper. */
  readonly active: boolean;
};

export type MirrorUser = UserData & {
  /** Ids of this node's groups the user is in (the same strings as the groups' ids). */
  groups: string[];
  /** Lower-cased search text, built on the first search (see query.ts). */
  search: string | undefined;
};

/** What a group carries; the state after a group event. */
export type GroupData = {
  readonly id: string;
  readonly displayName: string;
  readonly externalId: string | undefined;
};

export type MirrorGroup = GroupData & {
  readonly kind: 'Team' | 'Role';
  /** The name without the role prefix (for a role), as src/model.ts names it. */
  readonly name: string;
  readonly members: Set<string>;
};

export type UserOrderField = 'USER_NAME' | 'DISPLAY_NAME' | 'FAMILY_NAME';

/** The sort key of a user for an order: lower-cased, compared by code unit, ties broken by id. */
export function userSortKey(user: UserData, field: UserOrderField): string {
  switch (field) {
    case 'USER_NAME':
      return user.userName.toLowerCase();
    case 'DISPLAY_NAME':
      return (user.displayName ?? user.userName).toLowerCase();
    case 'FAMILY_NAME':
      return (user.familyName ?? '').toLowerCase();
  }
}

export const groupSortKey = (group: MirrorGroup) => group.name.toLowerCase();

/** Compares (key, id) pairs: the keyset order of every list. */
export function compareKeys(ak: string, aid: string, bk: string, bid: string): number {
  if (ak !== bk) return ak < bk ? -1 : 1;
  if (aid !== bid) return aid < bid ? -1 : 1;
  return 0;
}

/** Index of the first element not below (key, id) in a sorted list. */
export function lowerBound<T>(
  sorted: readonly T[],
  key: string,
  id: string,
  keyOf: (t: T) => string,
  idOf: (t: T) => string,
): number {
  let lo = 0;
  let hi = sorted.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    const t = sorted[mid] as T;
    if (compareKeys(keyOf(t), idOf(t), key, id) < 0) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

export function userData(user: ScimUser): UserData {
  const primary = user.emails.find((e) => e.primary === true) ?? user.emails[0];
  // The e-mail is usually the userName: keep one string for both.
  const email = primary?.value === user.userName ? user.userName : primary?.value;
  return {
    id: user.id,
    userName: user.userName,
    displayName: user.displayName,
    givenName: user.name?.givenName,
    familyName: user.name?.familyName,
    email,
    externalId: user.externalId,
    active: user.active,
  };
}

/** Team or role, and the name, exactly as src/model.ts classifies a group read from the upstream. */
export function classify(
  data: GroupData,
  rolePrefix: string,
): { kind: 'Team' | 'Role'; name: string } {
  const { kind, name } = classifyGroup({ ...data, members: undefined }, rolePrefix);
  return { kind, name };
}

export const groupData = (group: ScimGroup): GroupData => ({
  id: group.id,
  displayName: group.displayName,
  externalId: group.externalId,
});

/** The fields of UserData an update compares, in the order USER_UPDATED lists them. */
export const USER_FIELDS = [
  'userName',
  'displayName',
  'givenName',
  'familyName',
  'email',
  'externalId',
] as const satisfies readonly (keyof UserData)[];

/** A state change, as the change feed carries it (see change.ts for how they are made). */
export type ChangeType =
  | 'USER_CREATED'
  | 'USER_UPDATED'
  | 'USER_LOCKED'
  | 'USER_UNLOCKED'
  | 'USER_REMOVED'
  | 'TEAM_CREATED'
  | 'TEAM_RENAMED'
  | 'TEAM_UPDATED'
  | 'TEAM_DELETED'
  | 'ROLE_CREATED'
  | 'ROLE_RENAMED'
  | 'ROLE_UPDATED'
  | 'ROLE_DELETED'
  | 'MEMBER_ADDED'
  | 'MEMBER_REMOVED';

export type ChangeSource = { kind: 'THIS_SERVICE'; mutation: string } | { kind: 'UPSTREAM' };

/** One change before it has a place in the log. */
export type Change = {
  type: ChangeType;
  /** ISO 8601: when this service saw it (a refresh's read, or the write). */
  time: string;
  source: ChangeSource;
  userId?: string;
  groupId?: string;
  /** Member events: whether the group is a team or a role. */
  groupKind?: 'TEAM' | 'ROLE';
  /** USER_UPDATED: the attributes that changed; TEAM_UPDATED/ROLE_UPDATED: `externalId`. */
  fields?: string[];
  /** User events except USER_REMOVED: the user after the change. */
  user?: UserData;
  /** Group events except *_DELETED: the group after the change. */
  group?: GroupData;
};

/** A change in the log: `cursor` orders it (`<ms>-<seq>`, a Redis Stream id). */
export type ChangeEvent = Change & { cursor: string };

export class Snapshot {
  readonly users = new Map<string, MirrorUser>();
  readonly groups = new Map<string, MirrorGroup>();
  /** When the upstream read this snapshot reflects started (writes applied since are in it too). */
  asOf: Date;
  /** How long that read took, in milliseconds. */
  refreshedIn: number;
  readonly rolePrefix: string;
  /**
   * Counts every change to `groups` (a group put or removed): what was derived from the groups at
   * one count holds while it stays the same.
   */
  groupsVersion = 0;
  /** Ascending orders built so far; `apply` keeps them sorted. */
  readonly #userOrders = new Map<UserOrderField, MirrorUser[]>();
  #groupOrder: MirrorGroup[] | undefined;

  constructor(rolePrefix: string, asOf: Date, refreshedIn: number) {
    this.rolePrefix = rolePrefix;
    this.asOf = asOf;
    this.refreshedIn = refreshedIn;
  }

  /** A snapshot of SCIM resources as read: memberships from User.groups and Group.members. */
  static fromScim(
    users: readonly ScimUser[],
    groups: readonly ScimGroup[],
    rolePrefix: string,
    asOf: Date,
    refreshedIn: number,
  ): Snapshot {
    const snapshot = new Snapshot(rolePrefix, asOf, refreshedIn);
    for (const g of groups) snapshot.putGroup(groupData(g));
    for (const u of users) snapshot.putUser(userData(u));
    for (const g of groups) {
      for (const m of g.members ?? []) snapshot.addMember(g.id, m.value);
    }
    for (const u of users) {
      for (const ref of u.groups ?? []) snapshot.addMember(ref.value, u.id);
    }
    return snapshot;
  }

  /** Sorted ascending by (key, id); built on first use. */
  userOrder(field: UserOrderField): readonly MirrorUser[] {
    let order = this.#userOrders.get(field);
    if (!order) {
      const keyed = [...this.users.values()].map((u) => ({ k: userSortKey(u, field), u }));
      keyed.sort((a, b) => compareKeys(a.k, a.u.id, b.k, b.u.id));
      order = keyed.map((x) => x.u);
      this.#userOrders.set(field, order);
    }
    return order;
  }

  groupOrder(): readonly MirrorGroup[] {
    if (!this.#groupOrder) {
      this.#groupOrder = [...this.groups.values()].sort((a, b) =>
        compareKeys(groupSortKey(a), a.id, groupSortKey(b), b.id),
      );
    }
    return this.#groupOrder;
  }

  /** Drops the sorted orders (before many changes at once: rebuilding is cheaper then). */
  dropOrders(): void {
    this.#userOrders.clear();
    this.#groupOrder = undefined;
  }

  /** Applies a change. Idempotent: events carry the state after, so a replay changes nothing. */
  apply(change: Change): void {
    switch (change.type) {
      case 'USER_CREATED':
      case 'USER_UPDATED':
      case 'USER_LOCKED':
      case 'USER_UNLOCKED':
        if (change.user) this.putUser(change.user);
        return;
      case 'USER_REMOVED':
        if (change.userId) this.removeUser(change.userId);
        return;
      case 'TEAM_CREATED':
      case 'TEAM_RENAMED':
      case 'TEAM_UPDATED':
      case 'ROLE_CREATED':
      case 'ROLE_RENAMED':
      case 'ROLE_UPDATED':
        if (change.group) this.putGroup(change.group);
        return;
      case 'TEAM_DELETED':
      case 'ROLE_DELETED':
        if (change.groupId) this.removeGroup(change.groupId);
        return;
      case 'MEMBER_ADDED':
        if (change.groupId && change.userId) this.addMember(change.groupId, change.userId);
        return;
      case 'MEMBER_REMOVED':
        if (change.groupId && change.userId) this.removeMember(change.groupId, change.userId);
        return;
    }
  }

  putUser(data: UserData): void {
    const old = this.users.get(data.id);
    // Built field by field: every user has the same shape (events parsed from JSON lack the
    // undefined ones), which keeps V8's representation small.
    const user: MirrorUser = {
      id: data.id,
      userName: data.userName,
      displayName: data.displayName,
      givenName: data.givenName,
      familyName: data.familyName,
      email: data.email,
      externalId: data.externalId,
      active: data.active,
      groups: old?.groups ?? NO_GROUPS,
      search: undefined,
    };
    for (const [field, order] of this.#userOrders) {
      if (old) removeSorted(order, old, (u) => userSortKey(u, field));
      insertSorted(order, user, (u) => userSortKey(u, field));
    }
    this.users.set(data.id, user);
  }

  removeUser(id: string): void {
    const old = this.users.get(id);
    if (!old) return;
    for (const groupId of old.groups) this.groups.get(groupId)?.members.delete(id);
    for (const [field, order] of this.#userOrders) {
      removeSorted(order, old, (u) => userSortKey(u, field));
    }
    this.users.delete(id);
  }

  putGroup(data: GroupData): void {
    const old = this.groups.get(data.id);
    const model = classify(data, this.rolePrefix);
    const group: MirrorGroup = {
      id: data.id,
      displayName: data.displayName,
      externalId: data.externalId,
      kind: model.kind,
      name: model.name,
      members: old?.members ?? new Set(),
    };
    if (this.#groupOrder) {
      if (old) removeSorted(this.#groupOrder, old, groupSortKey);
      insertSorted(this.#groupOrder, group, groupSortKey);
    }
    this.groups.set(data.id, group);
    this.groupsVersion++;
  }

  removeGroup(id: string): void {
    const old = this.groups.get(id);
    if (!old) return;
    for (const userId of old.members) {
      const user = this.users.get(userId);
      if (user) user.groups = user.groups.filter((g) => g !== id);
    }
    if (this.#groupOrder) removeSorted(this.#groupOrder, old, groupSortKey);
    this.groups.delete(id);
    this.groupsVersion++;
  }

  /** Adds a membership between a known group and a known user (others are not this node's). */
  addMember(groupId: string, userId: string): void {
    const group = this.groups.get(groupId);
    const user = this.users.get(userId);
    if (!group || !user || group.members.has(userId)) return;
    group.members.add(user.id);
    user.groups = [...user.groups, group.id];
  }

  removeMember(groupId: string, userId: string): void {
    const group = this.groups.get(groupId);
    const user = this.users.get(userId);
    if (!group?.members.delete(userId) || !user) return;
    user.groups = user.groups.filter((g) => g !== groupId);
  }

  /** A deep copy (what a refresh diffs against must not move under it). */
  toJSON(): SnapshotJson {
    return {
      v: 1,
      asOf: this.asOf.toISOString(),
      refreshedIn: this.refreshedIn,
      rolePrefix: this.rolePrefix,
      users: [...this.users.values()].map((u) => [
        u.id,
        u.userName,
        u.displayName ?? null,
        u.givenName ?? null,
        u.familyName ?? null,
        u.email === u.userName ? 1 : (u.email ?? null),
        u.externalId ?? null,
        u.active ? 1 : 0,
      ]),
      groups: [...this.groups.values()].map((g) => [
        g.id,
        g.displayName,
        g.externalId ?? null,
        [...g.members],
      ]),
    };
  }

  static fromJSON(json: SnapshotJson): Snapshot {
    if (json.v !== 1) throw new TypeError(`unknown mirror snapshot version ${String(json.v)}`);
    const snapshot = new Snapshot(json.rolePrefix, new Date(json.asOf), json.refreshedIn);
    const opt = (v: string | null) => v ?? undefined;
    for (const [
      id,
      userName,
      displayName,
      givenName,
      familyName,
      email,
      externalId,
      active,
    ] of json.users) {
      snapshot.putUser({
        id,
        userName,
        displayName: opt(displayName),
        givenName: opt(givenName),
        familyName: opt(familyName),
        email: email === 1 ? userName : opt(email),
        externalId: opt(externalId),
        active: active === 1,
      });
    }
    for (const [id, displayName, externalId] of json.groups) {
      snapshot.putGroup({ id, displayName, externalId: opt(externalId) });
    }
    for (const [id, , , members] of json.groups) {
      for (const userId of members) snapshot.addMember(id, userId);
    }
    return snapshot;
  }
}

/** The serialised snapshot (stored in Redis beside the change stream). */
export type SnapshotJson = {
  v: 1;
  asOf: string;
  refreshedIn: number;
  rolePrefix: string;
  users: [
    id: string,
    userName: string,
    displayName: string | null,
    givenName: string | null,
    familyName: string | null,
    /** 1 = the userName. */
    email: string | 1 | null,
    externalId: string | null,
    active: 0 | 1,
  ][];
  groups: [id: string, displayName: string, externalId: string | null, members: string[]][];
};

/** Shared by every user in no group: membership arrays are replaced, never changed in place. */
const NO_GROUPS: string[] = [];

function insertSorted<T extends { id: string }>(order: T[], item: T, keyOf: (t: T) => string) {
  const at = lowerBound(order, keyOf(item), item.id, keyOf, (t) => t.id);
  order.splice(at, 0, item);
}

function removeSorted<T extends { id: string }>(order: T[], item: T, keyOf: (t: T) => string) {
  const at = lowerBound(order, keyOf(item), item.id, keyOf, (t) => t.id);
  if (order[at]?.id === item.id) order.splice(at, 1);
}

/**
 * A mirrored user as the schema resolves users: the SCIM shape with what the mirror keeps (one
 * e-mail, marked primary; memberships in this node only).
 */
export function toUserModel(u: MirrorUser): UserModel {
  return {
    id: u.id,
    userName: u.userName,
    displayName: u.displayName,
    externalId: u.externalId,
    name:
      u.givenName === undefined && u.familyName === undefined
        ? undefined
        : { givenName: u.givenName, familyName: u.familyName, formatted: undefined },
    emails: u.email === undefined ? [] : [{ value: u.email, type: undefined, primary: true }],
    active: u.active,
    groups: u.groups.map((value) => ({
      value,
      display: undefined,
      type: undefined,
      $ref: undefined,
    })),
  };
}

/** A mirrored team or role as the schema resolves groups (without members: see Snapshot). */
export function toGroupModel(g: MirrorGroup): GroupModel {
  const group = {
    id: g.id,
    displayName: g.displayName,
    externalId: g.externalId,
    members: undefined,
  };
  return g.kind === 'Team'
    ? { kind: 'Team', group, name: g.name }
    : { kind: 'Role', group, name: g.name };
}
