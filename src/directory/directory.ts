import type { Caller } from '../caller-auth.ts';
import type { IdempotencyStore } from '../idempotency.ts';
import type { GroupLocks } from '../locks.ts';
import {
  type GroupModel,
  isTeam,
  type RoleModel,
  type TeamModel,
  type UserModel,
} from '../model.ts';
import { createLists, type Listing, type UserQuery } from './lists.ts';
import type { MirrorWrite } from './mirror/change.ts';
import type { Mirror } from './mirror/mirror.ts';
import { InvalidArgumentError } from './outcomes.ts';
import { alongside } from './reads/ahead.ts';
import { createReadCache, type ReadCache } from './reads/cache.ts';
import type { Decision, ReadEnv } from './reads/env.ts';
import type { GroupSnapshot } from './reads/groups.ts';
import { userListing } from './reads/listing.ts';
import { mappedSource } from './reads/source.ts';
import type { WriteEnv } from './writes/env.ts';
import {
  changeMembers,
  createGroup,
  deleteGroup,
  type MemberChange,
  renameGroup,
  setMembers,
} from './writes/groups.ts';
import { type RunInfo, runMutation } from './writes/run.ts';
import {
  createUser,
  deprovisionUser,
  replaceUser,
  setUserActive,
  type UserAttributes,
  type UserChanges,
  updateUser,
} from './writes/users.ts';

// The directory of one request: every read and write of Keeper the schema asks for, each one
// call. Reads are batched and cached for the request (reads/); a write (writes/) makes the
// directory forget them all at once by building a new cache (`invalidate`), so nothing read
// before a write answers for after it.

export type Directory = ReturnType<typeof createDirectory>;

export type DirectoryDeps = ReadEnv & {
  locks: GroupLocks;
  idempotency: IdempotencyStore;
  caller: Caller;
  /** The directory mirror: each write is applied to it as the upstream answered (read-your-writes). */
  mirror?: Mirror | undefined;
  /** The caller asked for fresh reads (`Cache-Control: no-cache`): no list from the mirror. */
  fresh?: boolean | undefined;
};

export type GroupKind = 'Team' | 'Role';

/** The order of a team or role list (mirror only). */
export type GroupOrder = { direction?: 'ASC' | 'DESC' | null | undefined } | null | undefined;

type ModelOf<K extends GroupKind> = K extends 'Team' ? TeamModel : RoleModel;

export type TeamFilter = {
  name?: string | null;
  nameContains?: string | null;
  externalId?: string | null;
};

/**
 * A read that nested fields will need, started alongside the read asked for (reads/ahead.ts):
 * `groups` for users' teams and roles, `membership` for teams' members.
 */
export type ReadAhead = 'groups' | 'membership' | undefined;

/** How one user is looked up. */
export type UserKey = { id: string } | { userName: string } | { externalId: string };

const isKind =
  <K extends GroupKind>(kind: K) =>
  (g: GroupModel | undefined): g is ModelOf<K> =>
    g?.kind === kind;

/** A team or role to create; a role's name is given without the role prefix. */
export type NewGroup = {
  name: string;
  externalId?: string | null;
  memberIds: string[];
  allowDuplicateName?: boolean | null;
};

export function createDirectory(env: DirectoryDeps) {
  /** Strategies chosen in this request, in order; reported in `extensions.upstream.batches`. */
  const decisions: Decision[] = [];
  /** Whether the operation selects a field that needs memberships (set by the app per request). */
  let expectsMembership = false;
  const build = (): ReadCache =>
    createReadCache(
      env,
      (decision) => decisions.push(decision),
      () => expectsMembership,
    );
  // Built on the first read: a request answered from the directory mirror makes none.
  let cache: ReadCache | undefined;
  const reads = (): ReadCache => {
    cache ??= build();
    return cache;
  };
  const invalidate = () => {
    cache = undefined;
  };
  const writes: WriteEnv = { ...env, reads, invalidate };
  /** The upstream name of a team or role: a role's carries the role prefix. */
  const displayName = (kind: GroupKind, name: string) =>
    kind === 'Role' ? `${env.upstream.rolePrefix}${name}` : name;

  /** The mutation running now (a request's mutations run one after another), for the mirror. */
  let mutation = 'unknown';
  /** Tells the mirror what a write did, once it succeeded, and then answers its result. */
  const mirrored =
    <T>(describe: (result: T) => MirrorWrite) =>
    async (result: T): Promise<T> => {
      await env.mirror?.apply(describe(result));
      return result;
    };
  const userWrite = mirrored((u: UserModel) => ({ kind: 'user', mutation, user: u }));
  const groupWrite = <G extends GroupModel>(model: G) =>
    mirrored((g: G) => ({ kind: 'group', mutation, group: g.group }))(model);
  const membersWrite = <T>(
    result: T,
    groupId: string,
    added: readonly string[],
    removed: readonly string[],
  ) => mirrored<T>(() => ({ kind: 'members', mutation, groupId, added, removed }))(result);

  const user = (id: string): Promise<UserModel | null> => reads().users.byId.load(id);
  const groups = (): Promise<GroupSnapshot> => reads().groups.snapshot();

  /** Starts the read `what` names; `false` when there is none to start. */
  const ahead = (what: ReadAhead): Promise<unknown> | false =>
    what === undefined ? false : what === 'groups' ? groups() : reads().membership.membershipScan();

  /** Which lists the mirror answers (lists.ts). */
  const lists = createLists(env.mirror, env.call.signal);
  if (env.fresh) lists.readFresh();

  const group = async <K extends GroupKind>(kind: K, keeperId: string) => {
    const found = (await groups()).byId.get(keeperId);
    return isKind(kind)(found) ? found : null;
  };

  /** The teams that meet `filter`, read from the upstream. */
  const upstreamTeams = async (filter: TeamFilter, readAhead: ReadAhead): Promise<TeamModel[]> => {
    const candidates =
      filter.name != null
        ? reads().groups.where('displayName', filter.name)
        : filter.externalId != null
          ? reads().groups.where('externalId', filter.externalId)
          : groups().then((snapshot) => snapshot.all);
    const needle = filter.nameContains?.toLowerCase();
    return (await alongside(candidates, ahead(readAhead)))
      .filter(isTeam)
      .filter(
        (g) =>
          (filter.name == null || g.name.toLowerCase() === filter.name.toLowerCase()) &&
          (filter.externalId == null || g.group.externalId === filter.externalId) &&
          (needle === undefined || g.name.toLowerCase().includes(needle)),
      );
  };

  return {
    // ---- users ----------------------------------------------------------------------------------
    usersById: (ids: readonly string[]) => Promise.all(ids.map((id) => user(id))),
    /** One user by id, userName (without case) or externalId; null for none, or no key. */
    findUser: (key: UserKey | null, readAhead?: ReadAhead): Promise<UserModel | null> => {
      const found =
        key === null
          ? Promise.resolve(null)
          : 'id' in key
            ? user(key.id)
            : 'userName' in key
              ? reads().users.byUserName.load(key.userName)
              : reads().users.byExternalId.load(key.externalId);
      return alongside(found, ahead(readAhead));
    },
    /**
     * The `users` list: from the mirror when it may answer, else from the upstream (each page
     * read alongside `readAhead`); mirror-only arguments are refused on a fresh read.
     */
    users: async (query: UserQuery, readAhead?: ReadAhead): Promise<Listing<UserModel>> => {
      const mirrored = await lists.users(query);
      if (mirrored) return mirrored;
      const source = userListing(env, reads().users, query.filter);
      // Started with the first read of the list, never before: invalid paging arguments are
      // refused before any upstream call.
      let side: Promise<unknown> | false | undefined;
      const started = () => {
        side ??= ahead(readAhead);
        return side;
      };
      return {
        offset: {
          page: (offset, limit) => {
            const page = source.page(offset, limit);
            return alongside(page, started());
          },
          count: () => {
            const count = source.count();
            return alongside(count, started());
          },
        },
      };
    },

    // ---- teams and roles ------------------------------------------------------------------------
    groups,
    /** The team or role with this id, or null (also when it is a group of the other kind). */
    group,
    groupsById: async <K extends GroupKind>(kind: K, ids: readonly string[]) => {
      const { byId } = await groups();
      return ids.map((id) => {
        const found = byId.get(id);
        return isKind(kind)(found) ? found : null;
      });
    },
    /**
     * The teams, or roles, with this name, compared without case. A role name may be given with
     * or without the role prefix.
     */
    groupsNamed: async <K extends GroupKind>(kind: K, name: string): Promise<ModelOf<K>[]> => {
      const prefix = env.upstream.rolePrefix;
      const displayName = kind === 'Role' && !name.startsWith(prefix) ? `${prefix}${name}` : name;
      return (await reads().groups.where('displayName', displayName)).filter(isKind(kind));
    },
    /**
     * The teams that meet `filter`: from the mirror when it may answer and no exact name or
     * externalId is given (those are asked upstream); `orderBy` only from the mirror.
     */
    teams: async (
      filter: TeamFilter,
      orderBy: GroupOrder,
      readAhead?: ReadAhead,
    ): Promise<Listing<TeamModel>> => {
      if (filter.name == null && filter.externalId == null) {
        const mirrored = await lists.groups('Team', filter.nameContains, orderBy);
        if (mirrored) return mirrored;
      } else if (orderBy != null) {
        throw new InvalidArgumentError(
          'orderBy cannot be combined with an exact name or externalId filter',
          'orderBy',
        );
      }
      return { offset: await upstreamTeams(filter, readAhead) };
    },
    /** The roles whose name contains `nameContains` (without case), or all; as `teams`. */
    roles: async (
      nameContains: string | null | undefined,
      orderBy: GroupOrder,
    ): Promise<Listing<RoleModel>> => {
      const mirrored = await lists.groups('Role', nameContains, orderBy);
      if (mirrored) return mirrored;
      const { roles } = await groups();
      const needle = nameContains?.toLowerCase();
      return {
        offset:
          needle === undefined ? roles : roles.filter((r) => r.name.toLowerCase().includes(needle)),
      };
    },

    // ---- membership -----------------------------------------------------------------------------
    /**
     * The teams, or roles, of this node a user belongs to: at once from the mirror for its users
     * (no promise: a page has one such list per user and kind), else from the membership read.
     */
    groupsOf: <K extends GroupKind>(kind: K, of: UserModel): ModelOf<K>[] | Promise<ModelOf<K>[]> =>
      (lists.groupsOf(kind, of) as ModelOf<K>[] | undefined) ??
      reads()
        .membership.groupsOfUser(of)
        .then((groups) => groups.filter(isKind(kind))),
    /**
     * The members of a team or role: from the mirror (ordered by userName, keyset cursors)
     * unless the read must be fresh or the mirror does not know the group yet. Else the member
     * ids come from the request's membership index (Group.members, or one user scan when the
     * upstream omits them); only the users of the requested page are loaded, through the
     * batched user lookup.
     */
    membersOf: async (
      of: GroupModel,
      active?: boolean | null | undefined,
    ): Promise<Listing<UserModel>> => {
      const mirrored = await lists.members(of, active);
      if (mirrored) return mirrored;
      const ids = (await reads().membership.membershipIndex()).get(of.group.id) ?? [];
      return {
        offset: mappedSource<string, UserModel>(ids, (page) => Promise.all(page.map(user))),
      };
    },

    // ---- planning -------------------------------------------------------------------------------
    /** The operation asks for fresh reads (`@fresh`, or a mutation's payload): no list from the mirror. */
    readFresh: () => lists.readFresh(),
    /** The directory mirror's state, null when MIRROR=off (lists.ts). */
    mirrorState: () => lists.state(),
    /** A page of the mirror's change feed after `after` (lists.ts). */
    changesAfter: (after: string | undefined, count: number) => lists.changesAfter(after, count),
    /** The mirror's changes after `after`, then as they are applied (lists.ts). */
    followChanges: (after: string | undefined) => lists.follow(after),
    /** The oldest mirror snapshot an answer of this request used, for `extensions.directory.asOf`. */
    mirrorAsOf: (): Date | undefined => lists.asOf(),
    /** The operation selects a field that needs memberships: read Groups with their members. */
    expectMembership() {
      expectsMembership = true;
    },
    decisions: decisions as readonly Decision[],

    // ---- writes ---------------------------------------------------------------------------------
    /**
     * Runs a write once per idempotency key (writes/run.ts), then forgets every read of the
     * request, so that the payload is read fresh.
     */
    run: <T extends object>(
      name: string,
      key: string | undefined,
      input: { clientMutationId?: string | null | undefined },
      execute: (run: RunInfo) => Promise<T>,
    ) => {
      mutation = name;
      return runMutation(writes, name, key, input, execute);
    },
    createUser: (
      input: UserAttributes & { teamIds: readonly string[]; roleIds: readonly string[] },
      run: RunInfo,
    ) => createUser(writes, input, run).then(userWrite),
    updateUser: (id: string, changes: UserChanges) =>
      updateUser(writes, id, changes).then(userWrite),
    replaceUser: (id: string, input: UserAttributes & { active: boolean }) =>
      replaceUser(writes, id, input).then(userWrite),
    setUserActive: (id: string, active: boolean) =>
      setUserActive(writes, id, active).then(userWrite),
    deprovisionUser: (id: string) =>
      deprovisionUser(writes, id).then(
        mirrored((r) =>
          r.user
            ? { kind: 'user', mutation, user: r.user }
            : { kind: 'userRemoved', mutation, userId: r.keeperId },
        ),
      ),
    createGroup: <K extends GroupKind>(kind: K, input: NewGroup, run: RunInfo) =>
      createGroup(writes, kind, { ...input, displayName: displayName(kind, input.name) }, run).then(
        groupWrite,
      ),
    renameGroup: <K extends GroupKind>(
      kind: K,
      keeperId: string,
      name: string,
      allowDuplicateName: boolean,
    ) =>
      renameGroup(writes, kind, keeperId, displayName(kind, name), allowDuplicateName).then(
        groupWrite,
      ),
    deleteGroup: (kind: GroupKind, keeperId: string) =>
      deleteGroup(writes, kind, keeperId).then(
        mirrored(() => ({ kind: 'groupDeleted', mutation, groupId: keeperId })),
      ),
    changeMembers: <K extends GroupKind>(kind: K, keeperId: string, change: MemberChange) =>
      changeMembers(writes, kind, keeperId, change).then((model) =>
        membersWrite(model, keeperId, change.add, change.remove),
      ),
    setMembers: <K extends GroupKind>(kind: K, keeperId: string, userIds: readonly string[]) =>
      setMembers(writes, kind, keeperId, userIds).then((r) =>
        membersWrite(r, keeperId, r.added, r.removed),
      ),
  };
}
