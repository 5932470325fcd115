import DataLoader from 'dataloader';
import type { Config } from './config.ts';
import {
  classifyGroup,
  type GroupModel,
  isRole,
  isTeam,
  type RoleModel,
  type TeamModel,
  type UserModel,
  userNameKey,
} from './model.ts';
import { type LookupStrategy, type PlanLimits, planLookup, planScan } from './plan.ts';
import type { CallOptions, ScimClient } from './scim/client.ts';
import { ScimNotFoundError } from './scim/errors.ts';
import { chunkOrEq, groupEq, userEq } from './scim/filter.ts';
import type { ScimGroup, ScimUser } from './scim/schemas.ts';
import type { UpstreamInfo } from './upstream.ts';

// Per-request batching. Every loader returns results aligned with its keys,
// matched by key and never by position, with `null` for a key the upstream does not know.
//
// How a batch of users is fetched is planned by src/plan.ts, by dependent rounds first and
// users carried second:
//   get  = one GET /Users/{id} per key, all in flight at once (up to the request's concurrency)
//   or   = `id eq "a" or id eq "b" …` in URL-safe chunks (only when the upstream is known to
//          understand `or`: configuration or the start-up probe)
//   scan = one read of every user, its pages in parallel, shared by the whole request; never
//          beyond UPSTREAM_SCAN_LIMIT
// Once a scan has been made in a request, every later lookup is answered from it for free.

export type GroupSnapshot = {
  all: GroupModel[];
  byId: Map<string, GroupModel>;
  teams: TeamModel[];
  roles: RoleModel[];
  /** Whether the upstream returned `members` on its Group resources. */
  membersIncluded: boolean;
};

export type UserLookupStrategy = LookupStrategy;

export class ScanLimitError extends Error {
  readonly code = 'SCAN_LIMIT_EXCEEDED';
  constructor(limit: number) {
    super(
      `This question needs a scan of more than ${limit} users, the configured UPSTREAM_SCAN_LIMIT; narrow it with an exact filter (userName or externalId)`,
    );
    this.name = 'ScanLimitError';
  }
}

export type Loaders = ReturnType<typeof createLoaders>;

export function createLoaders(deps: {
  scim: ScimClient;
  upstream: UpstreamInfo;
  config: Config['scim'];
  call: CallOptions;
}) {
  const { scim, upstream, config, call } = deps;

  let scan: Promise<ScimUser[]> | undefined;
  /** The Groups read without members, and with them. */
  let groupsLean: Promise<GroupSnapshot> | undefined;
  let groupsFull: Promise<GroupSnapshot> | undefined;
  /** Whether the operation selects a field that needs memberships (set by the app per request). */
  let expectsMembership = false;
  let membership: Promise<Map<string, string[]>> | undefined;

  const prime = (users: Iterable<ScimUser>) => {
    for (const user of users) {
      userById.prime(user.id, user);
      userByUserName.prime(user.userName, user);
      userByUserName.prime(userNameKey(user.userName), user);
    }
  };

  const limits = (): PlanLimits => ({
    userCount: upstream.userCountHint,
    pageSize: config.pageSize,
    concurrency: config.requestConcurrency,
    scanLimit: config.scanLimit,
  });

  /**
   * Every user of the node, read once per request (bounded by UPSTREAM_SCAN_LIMIT). Refused
   * before any call when the node's user count already exceeds the limit.
   */
  const allUsers = (): Promise<ScimUser[]> => {
    if (scan) return scan;
    if (!planScan(limits()).ok) return Promise.reject(new ScanLimitError(config.scanLimit));
    scan = scim.users
      .listAll(
        {
          pageSize: config.pageSize,
          maxItems: config.scanLimit,
          concurrency: config.requestConcurrency,
          expectedTotal: upstream.userCountHint,
        },
        call,
      )
      .then((result) => {
        // An upstream that ends early (an empty or repeated page) gave all it will give; only a
        // cap means users exist that this request did not see.
        if (result.stop === 'max-items' || result.stop === 'max-pages') {
          throw new ScanLimitError(config.scanLimit);
        }
        upstream.observeUserCount(result.totalResults);
        prime(result.Resources);
        return result.Resources;
      });
    return scan;
  };

  /** Strategies chosen in this request, in order; reported in `extensions.upstream.batches`. */
  const decisions: { loader: string; keys: number; strategy: UserLookupStrategy }[] = [];

  async function lookup(
    loader: string,
    attribute: 'id' | 'userName' | 'externalId',
    keys: readonly string[],
    keyOf: (user: ScimUser) => string,
    single: (key: string) => Promise<ScimUser | null>,
    /** Maps a key to what `keyOf` gives for its user (userName keys compare without case). */
    keyNorm: (key: string) => string = (key) => key,
  ): Promise<(ScimUser | null)[]> {
    const found = new Map<string, ScimUser>();
    const index = (users: Iterable<ScimUser>) => {
      for (const user of users) found.set(keyOf(user), user);
    };
    const orChunks = upstream.capabilities.orFilters
      ? chunkOrEq('Users', attribute, keys, {
          urlLengthWithoutFilter: `${upstream.baseUrl}/Users?startIndex=1&count=${config.pageSize}`
            .length,
        })
      : undefined;
    const { strategy } = planLookup({
      ...limits(),
      keys: keys.length,
      orChunks: orChunks?.length,
      scanned: scan !== undefined,
    });
    decisions.push({ loader, keys: keys.length, strategy });
    if (strategy === 'scan') {
      index(await allUsers());
    } else if (strategy === 'or' && orChunks) {
      const pages = await Promise.all(
        orChunks.map((filter) => scim.users.listAll({ filter, pageSize: config.pageSize }, call)),
      );
      for (const page of pages) {
        prime(page.Resources);
        index(page.Resources);
      }
    } else {
      const users = await mapLimit(keys, config.requestConcurrency, single);
      const present = users.filter((u): u is ScimUser => u !== null);
      prime(present);
      index(present);
    }
    return keys.map((key) => found.get(keyNorm(key)) ?? null);
  }

  /**
   * userName compares without case (RFC 7643 caseExact=false, and Keeper), but some servers
   * compare it with case: on an upstream that is not Keeper, names the exact-case query missed
   * are looked for in the request's user scan (bounded by UPSTREAM_SCAN_LIMIT).
   */
  async function caseInsensitiveFallback(
    names: readonly string[],
    results: (ScimUser | null)[],
  ): Promise<(ScimUser | null)[]> {
    const missed = results.filter((r) => r === null).length;
    if (upstream.kind === 'keeper' || missed === 0) return results;
    decisions.push({ loader: 'userByUserName', keys: missed, strategy: 'scan' });
    const byName = new Map((await allUsers()).map((u) => [userNameKey(u.userName), u]));
    return results.map((r, i) => r ?? byName.get(userNameKey(names[i] ?? '')) ?? null);
  }

  const getById = (id: string) =>
    scim.users.get(id, call).catch((error: unknown) => {
      if (error instanceof ScimNotFoundError) return null;
      throw error;
    });

  const firstMatch = async (filter: string, matches: (u: ScimUser) => boolean) => {
    const page = await scim.users.list({ filter, startIndex: 1, count: 10 }, call);
    return page.Resources.find(matches) ?? null;
  };

  const userById: DataLoader<string, ScimUser | null> = new DataLoader(
    (ids) => lookup('userById', 'id', ids, (u) => u.id, getById),
    { maxBatchSize: 1000 },
  );

  // Keys are user names as the caller spelled them, sent upstream unchanged; the answer is
  // matched without case (Keeper's userName is unique case-insensitively).
  const userByUserName: DataLoader<string, ScimUser | null> = new DataLoader(
    async (names) =>
      caseInsensitiveFallback(
        names,
        await lookup(
          'userByUserName',
          'userName',
          names,
          (u) => userNameKey(u.userName),
          (name) =>
            firstMatch(
              userEq('userName', name),
              (u) => userNameKey(u.userName) === userNameKey(name),
            ),
          userNameKey,
        ),
      ),
    { maxBatchSize: 1000 },
  );

  // externalId is caseExact (RFC 7643 §3.1).
  const userByExternalId: DataLoader<string, ScimUser | null> = new DataLoader(
    (externalIds) =>
      lookup(
        'userByExternalId',
        'externalId',
        externalIds,
        (u) => u.externalId ?? '',
        (id) => firstMatch(userEq('externalId', id), (u) => u.externalId === id),
      ),
    { maxBatchSize: 1000 },
  );

  const readGroups = (withMembers: boolean): Promise<GroupSnapshot> =>
    scim.groups
      .listAll(
        { pageSize: config.pageSize, excludedAttributes: withMembers ? undefined : ['members'] },
        call,
      )
      .then(({ Resources: items }) => {
        if (withMembers && items.length > 0) {
          upstream.observeGroupMembers(items.some((g) => g.members !== undefined));
        }
        return buildSnapshot(
          items,
          upstream.rolePrefix,
          withMembers &&
            (upstream.capabilities.groupMembers === 'include' ||
              items.some((g) => g.members !== undefined)),
        );
      });

  /** The groups with their members, read once per request (only asked where members may come). */
  const fullSnapshot = (): Promise<GroupSnapshot> => {
    groupsFull ??= readGroups(true);
    return groupsFull;
  };

  const membersMayCome = () => upstream.capabilities.groupMembers !== 'omit';

  /**
   * Every group of the node, read once per request, classified as teams and roles. Without
   * members (`excludedAttributes=members`: a few KB instead of every membership of the node)
   * unless this request selects a field that needs them and the upstream may send them.
   */
  const groupSnapshot = (): Promise<GroupSnapshot> => {
    if (groupsFull) return groupsFull;
    if (expectsMembership && membersMayCome()) return fullSnapshot();
    groupsLean ??= readGroups(false);
    return groupsLean;
  };

  /**
   * Group id → member user ids. From Group.members when the upstream sends them, otherwise from
   * one user scan (User.groups), which Keeper's own clients rely on (docs/keeper-scim.md §2.3).
   */
  const membershipIndex = (): Promise<Map<string, string[]>> => {
    membership ??= (async () => {
      const index = new Map<string, string[]>();
      if (membersMayCome()) {
        const snapshot = await fullSnapshot();
        if (snapshot.membersIncluded) {
          for (const g of snapshot.all) {
            index.set(
              g.group.id,
              (g.group.members ?? []).map((m) => m.value),
            );
          }
          return index;
        }
      }
      for (const user of await allUsers()) {
        for (const ref of user.groups ?? []) {
          const list = index.get(ref.value) ?? [];
          list.push(user.id);
          index.set(ref.value, list);
        }
      }
      return index;
    })();
    return membership;
  };

  /**
   * The user scan that membership will need when the upstream sends no Group.members, started
   * now so that it runs alongside the Groups read; `false` when it will not be needed or the
   * scan limit forbids it (the field that needs it then reports SCAN_LIMIT_EXCEEDED).
   */
  const membershipScan = (): Promise<unknown> | false =>
    expectsMembership &&
    upstream.capabilities.groupMembers === 'omit' &&
    planScan(limits()).ok &&
    allUsers();

  /**
   * Groups whose displayName or externalId equals a value (key: `groupKey(attribute, value)`),
   * asked upstream as one escaped `eq` filter per value (Keeper's documented filter; Entra sends
   * `displayName eq` too), or answered for free from the Groups snapshot when this request
   * already has it. displayName compares without case (RFC 7643 caseExact=false), externalId
   * exactly; callers prefer an exact-case name when there are several.
   */
  const groupsWhere: DataLoader<string, GroupModel[]> = new DataLoader(async (keys) => {
    const parsed = keys.map(parseGroupKey);
    const groups = groupsFull ?? groupsLean;
    if (groups) {
      const { all } = await groups;
      return parsed.map((k) => all.filter((g) => groupMatches(g, k)));
    }
    return Promise.all(
      parsed.map(async (k) => {
        const { Resources } = await scim.groups.listAll(
          {
            filter: groupEq(k.attribute, k.value),
            pageSize: config.pageSize,
            excludedAttributes: ['members'],
          },
          call,
        );
        const found = Resources.map((g) => classifyGroup(g, upstream.rolePrefix)).filter((g) =>
          groupMatches(g, k),
        );
        // An upstream that compares displayName with case (not Keeper) misses other spellings:
        // the Groups snapshot answers them.
        if (found.length > 0 || k.attribute !== 'displayName' || upstream.kind === 'keeper') {
          return found;
        }
        return (await groupSnapshot()).all.filter((g) => groupMatches(g, k));
      }),
    );
  });

  /** The groups (teams and roles of this node) a user belongs to. */
  const groupsOfUser = async (user: ScimUser): Promise<GroupModel[]> => {
    const snapshot = await groupSnapshot();
    let ids: string[];
    if (user.groups !== undefined) {
      ids = user.groups.map((g) => g.value);
    } else {
      const index = await membershipIndex();
      ids = [...index].filter(([, members]) => members.includes(user.id)).map(([id]) => id);
    }
    // User.groups may list teams outside this SCIM node (docs/keeper-scim.md §2.2): they are not
    // readable here, so they are not shown.
    return ids.map((id) => snapshot.byId.get(id)).filter((g): g is GroupModel => g !== undefined);
  };

  return {
    userById,
    userByUserName,
    userByExternalId,
    allUsers,
    groupSnapshot,
    groupsWhere,
    membershipIndex,
    membershipScan,
    groupsOfUser,
    /** The operation selects a field that needs memberships: read Groups with their members. */
    expectMembership() {
      expectsMembership = true;
    },
    prime,
    decisions,
    /** Whether a full user scan has already been made (or started) in this request. */
    hasScanned: () => scan !== undefined,
    /** Forget everything read so far: mutations call it before returning fresh data. */
    clear() {
      scan = undefined;
      groupsLean = undefined;
      groupsFull = undefined;
      membership = undefined;
      userById.clearAll();
      userByUserName.clearAll();
      userByExternalId.clearAll();
      groupsWhere.clearAll();
    },
  };
}

type GroupKey = { attribute: 'displayName' | 'externalId'; value: string };

/** The key of `groupsWhere`. */
export const groupKey = (attribute: GroupKey['attribute'], value: string) =>
  `${attribute}=${value}`;

function parseGroupKey(key: string): GroupKey {
  const at = key.indexOf('=');
  const attribute = key.slice(0, at);
  if (attribute !== 'displayName' && attribute !== 'externalId') {
    throw new TypeError(`not a group key: ${attribute}`);
  }
  return { attribute, value: key.slice(at + 1) };
}

function groupMatches(g: GroupModel, k: GroupKey): boolean {
  return k.attribute === 'externalId'
    ? g.group.externalId === k.value
    : g.group.displayName.toLowerCase() === k.value.toLowerCase();
}

function buildSnapshot(
  items: ScimGroup[],
  rolePrefix: string,
  membersIncluded: boolean,
): GroupSnapshot {
  const all = items.map((g) => classifyGroup(g, rolePrefix));
  return {
    all,
    byId: new Map(all.map((g) => [g.group.id, g])),
    teams: all.filter(isTeam),
    roles: all.filter(isRole),
    membersIncluded,
  };
}

/** Runs `fn` over `items` with at most `limit` in flight, keeping the order of `items`. */
export async function mapLimit<T, R>(
  items: readonly T[],
  limit: number,
  fn: (item: T) => Promise<R>,
): Promise<R[]> {
  const results = new Array<R>(items.length);
  let next = 0;
  const worker = async () => {
    while (next < items.length) {
      const i = next++;
      results[i] = await fn(items[i] as T);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  return results;
}

export type { UserModel };
