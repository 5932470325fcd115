import type { GroupModel, UserModel } from '../model.ts';
import { ChangesResyncError } from './mirror/log.ts';
import { type Mirror, MirrorUnavailableError } from './mirror/mirror.ts';
import {
  counts,
  MirrorCursorError,
  mapPage,
  type Page,
  type PageArgs,
  queryGroups,
  queryMembers,
  queryUsers,
} from './mirror/query.ts';
import type {
  ChangeEvent,
  MirrorGroup,
  MirrorUser,
  Snapshot,
  UserOrderField,
} from './mirror/snapshot.ts';
import { toGroupModel, toUserModel } from './mirror/snapshot.ts';
import { InvalidArgumentError, ResyncRequiredError } from './outcomes.ts';
import type { OffsetSource } from './reads/source.ts';

// Where a list of one request is answered from: the directory mirror (src/directory/mirror/:
// keyset pages over its snapshot, zero upstream calls) when it is on and the request did not ask
// for fresh reads, else the upstream (offset pages, reads/). Arguments only the mirror can answer
// are refused on a fresh read with InvalidArgumentError, before any upstream call.

/** Thrown when the mirror has no snapshot yet; `cause` is what its first read threw. */
export { MirrorUnavailableError } from './mirror/mirror.ts';
export type { Page, PageArgs } from './mirror/query.ts';
export type { ChangeEvent, UserOrderField } from './mirror/snapshot.ts';

/** The mirror as `directory { … }` shows it; its status is read when a field asks. */
export type MirrorState = {
  asOf: Date;
  refreshedIn: number;
  counts: () => ReturnType<typeof counts>;
  status: () => ReturnType<Mirror['status']>;
};

/** A list as the directory answers it: keyset pages from the mirror, or an offset source. */
export type Listing<T> =
  | { keyset: (args: PageArgs) => Page<T> }
  | { offset: OffsetSource<T> | readonly T[] };

export type Direction = 'ASC' | 'DESC';

/** The arguments of `users`, group ids already decoded. */
export type UserQuery = {
  filter: {
    userName?: string | null | undefined;
    externalId?: string | null | undefined;
    active?: boolean | null | undefined;
    search?: string | null | undefined;
    teamId?: string | undefined;
    roleId?: string | undefined;
    externalIdPresent?: boolean | null | undefined;
  };
  orderBy?: { field: UserOrderField; direction?: Direction | null } | null | undefined;
};

const MIRROR_ONLY =
  'is answered from the directory mirror only: not with MIRROR=off, @fresh, Cache-Control: no-cache';

/**
 * The model of a mirrored team or role, made once per group object: a group event replaces the
 * object (snapshot.ts), and the model carries no members, so it never goes stale. A page of 50
 * users with their teams and roles asks for the same few groups a hundred times.
 */
const groupModels = new WeakMap<MirrorGroup, GroupModel>();
function groupModel(g: MirrorGroup): GroupModel {
  let model = groupModels.get(g);
  if (!model) {
    model = toGroupModel(g);
    groupModels.set(g, model);
  }
  return model;
}

/**
 * A user model built from the mirror, and its teams and roles as last derived: from `snapshot` at
 * its `groupsVersion` (a renamed or deleted group changes it; the user's own memberships are in
 * the model, which is rebuilt when they change).
 */
type MirroredUser = {
  groups: readonly string[];
  model: UserModel;
  derived?: {
    snapshot: Snapshot;
    version: number;
    Team: readonly GroupModel[];
    Role: readonly GroupModel[];
  };
};
/** Users built from the mirror: their teams and roles come from the same snapshot. */
const mirroredUsers = new WeakMap<UserModel, MirroredUser>();
/**
 * The model of a mirrored user, made once per user object and memberships array: a user event
 * replaces the object, a membership change its `groups` array (snapshot.ts); neither is changed
 * in place, so a kept model is never stale.
 */
const userModels = new WeakMap<MirrorUser, MirroredUser>();
function userModel(u: MirrorUser): UserModel {
  const kept = userModels.get(u);
  if (kept?.groups === u.groups) return kept.model;
  const entry: MirroredUser = { groups: u.groups, model: toUserModel(u) };
  mirroredUsers.set(entry.model, entry);
  userModels.set(u, entry);
  return entry.model;
}

/**
 * The teams and roles of a mirrored user in `snapshot`, kept until a group changes. The lists
 * are frozen: every request that asks gets the same ones (src/schema/connection.ts keeps their
 * pages).
 */
function groupsOfUser(entry: MirroredUser, snapshot: Snapshot) {
  const kept = entry.derived;
  if (kept?.snapshot === snapshot && kept.version === snapshot.groupsVersion) return kept;
  const Team: GroupModel[] = [];
  const Role: GroupModel[] = [];
  for (const ref of entry.model.groups ?? []) {
    const g = snapshot.groups.get(ref.value);
    if (g) (g.kind === 'Team' ? Team : Role).push(groupModel(g));
  }
  entry.derived = {
    snapshot,
    version: snapshot.groupsVersion,
    Team: Object.freeze(Team),
    Role: Object.freeze(Role),
  };
  return entry.derived;
}

/** A keyset page of the mirror, its cursor errors as InvalidArgumentError. */
function keyset<M, T>(query: (args: PageArgs) => Page<M>, map: (m: M) => T) {
  return (args: PageArgs): Page<T> => {
    let page: Page<M>;
    try {
      page = query(args);
    } catch (error) {
      if (error instanceof MirrorCursorError) {
        throw new InvalidArgumentError(error.message, error.argument);
      }
      throw error;
    }
    return mapPage(page, map);
  };
}

/**
 * The mirror side of one request's directory: `fresh` (Cache-Control: no-cache, `@fresh`, a
 * mutation) sends every list to the upstream; `asOf` records the oldest snapshot an answer used,
 * for `extensions.directory.asOf`.
 */
export function createLists(mirror: Mirror | undefined, signal: AbortSignal | undefined) {
  let fresh = false;
  let asOf: Date | undefined;

  /** The snapshot to answer from, or undefined when the read must be fresh. */
  async function snapshot(): Promise<Snapshot | undefined> {
    if (!mirror || fresh) return undefined;
    const current = await first(mirror);
    if (!asOf || current.asOf < asOf) asOf = current.asOf;
    return current;
  }

  /** The mirror, refused when it is off (MIRROR=off). */
  const on = (): Mirror => {
    if (!mirror)
      throw new InvalidArgumentError('The directory mirror is off on this service (MIRROR=off).');
    return mirror;
  };
  /** The mirror's snapshot, once its first read is done; MirrorUnavailableError if that failed. */
  const first = async (m: Mirror): Promise<Snapshot> => {
    try {
      return await m.ready(signal);
    } catch (error) {
      throw new MirrorUnavailableError(error);
    }
  };
  const resync = (error: unknown) =>
    error instanceof ChangesResyncError ? new ResyncRequiredError(error.message) : error;

  return {
    /** Every list of this request reads the upstream. */
    readFresh() {
      fresh = true;
    },
    // Methods, not getters: an object literal with accessors is built by a slow path of V8, and
    // every request builds one.
    asOf: (): Date | undefined => asOf,

    /** The mirror's state; null when it is off. Waits only for the first read of the node. */
    async state(): Promise<MirrorState | null> {
      if (!mirror) return null;
      const current = await first(mirror);
      return {
        asOf: current.asOf,
        refreshedIn: current.refreshedIn,
        counts: () => counts(current),
        status: () => mirror.status(),
      };
    },
    /** A page of changes after `after`; ResyncRequiredError when it is older than the retention. */
    async changesAfter(after: string | undefined, count: number) {
      const m = on();
      await first(m);
      try {
        return await m.changesAfter(after, count);
      } catch (error) {
        throw resync(error);
      }
    },
    /** The changes after `after`, then each new one; refused at once when the mirror is off. */
    follow(after: string | undefined): AsyncGenerator<ChangeEvent, void, undefined> {
      const m = on();
      return (async function* () {
        await first(m);
        try {
          yield* m.subscribe({ after, signal });
        } catch (error) {
          throw resync(error);
        }
      })();
    },

    /** `users` from the mirror, or undefined after refusing mirror-only arguments. */
    async users({ filter, orderBy }: UserQuery): Promise<Listing<UserModel> | undefined> {
      const exact = filter.userName != null || filter.externalId != null;
      const from = exact ? undefined : await snapshot();
      if (from) {
        return {
          keyset: keyset(
            (args) =>
              queryUsers(from, {
                filter: {
                  active: filter.active ?? undefined,
                  search: filter.search ?? undefined,
                  teamId: filter.teamId,
                  roleId: filter.roleId,
                  externalIdPresent: filter.externalIdPresent ?? undefined,
                },
                orderBy: orderBy
                  ? { field: orderBy.field, direction: orderBy.direction ?? 'ASC' }
                  : undefined,
                ...args,
              }),
            userModel,
          ),
        };
      }
      for (const [argument, given] of [
        ['orderBy', orderBy],
        ['filter.teamId', filter.teamId],
        ['filter.roleId', filter.roleId],
        ['filter.externalIdPresent', filter.externalIdPresent],
      ] as const) {
        if (given != null) {
          throw new InvalidArgumentError(
            `${argument} ${MIRROR_ONLY}, or a userName/externalId filter`,
            argument,
          );
        }
      }
      return undefined;
    },

    /** Teams or roles from the mirror, or undefined when the read must be fresh. */
    async groups<K extends 'Team' | 'Role'>(
      kind: K,
      nameContains: string | null | undefined,
      orderBy: { direction?: Direction | null | undefined } | null | undefined,
    ): Promise<Listing<Extract<GroupModel, { kind: K }>> | undefined> {
      const from = await snapshot();
      if (!from) {
        if (orderBy != null) {
          throw new InvalidArgumentError(
            `orderBy ${MIRROR_ONLY}, or an exact name/externalId filter`,
            'orderBy',
          );
        }
        return undefined;
      }
      return {
        keyset: keyset(
          (args) =>
            queryGroups(from, kind, {
              nameContains: nameContains ?? undefined,
              orderBy: { direction: orderBy?.direction ?? 'ASC' },
              ...args,
            }),
          (g) => groupModel(g) as Extract<GroupModel, { kind: K }>,
        ),
      };
    },

    /** The teams or roles of a user that came from the mirror, from it; else undefined. */
    groupsOf<K extends 'Team' | 'Role'>(
      kind: K,
      user: UserModel,
    ): readonly Extract<GroupModel, { kind: K }>[] | undefined {
      const entry = mirroredUsers.get(user);
      const current = entry ? mirror?.current() : undefined;
      if (!entry || !current) return undefined;
      return groupsOfUser(entry, current)[kind] as readonly Extract<GroupModel, { kind: K }>[];
    },

    /**
     * The members of a group from the mirror (ordered by userName), or undefined when the read
     * must be fresh or the mirror does not know the group yet; `active` is refused then.
     */
    async members(
      group: GroupModel,
      active: boolean | null | undefined,
    ): Promise<Listing<UserModel> | undefined> {
      const from = await snapshot();
      if (from?.groups.has(group.group.id)) {
        return {
          keyset: keyset(
            (args) =>
              queryMembers(from, group.group.id, {
                filter: { active: active ?? undefined },
                ...args,
              }) as Page<MirrorUser>,
            userModel,
          ),
        };
      }
      if (active != null) {
        throw new InvalidArgumentError(
          `filter.active on members ${MIRROR_ONLY}, in a mutation payload, or for a group the mirror does not know yet`,
          'filter.active',
        );
      }
      return undefined;
    },
  };
}
