import DataLoader from 'dataloader';
import { userNameKey } from '../../model.ts';
import { ScimNotFoundError } from '../../scim/errors.ts';
import { chunkOrEq, userEq } from '../../scim/filter.ts';
import type { ScimUser } from '../../scim/schemas.ts';
import { ScanLimitError } from '../outcomes.ts';
import { type Decision, mapLimit, planLimits, type ReadEnv } from './env.ts';
import { planLookup, planScan } from './plan.ts';

// User lookups of one request. Every loader returns results aligned with its keys, matched by key
// and never by position, with `null` for a key the upstream does not know.
//
// How a batch of users is fetched is planned by plan.ts, by dependent rounds first and users
// carried second:
//   get  = one GET /Users/{id} per key, all in flight at once (up to the request's concurrency)
//   or   = `id eq "a" or id eq "b" …` in URL-safe chunks (only when the upstream is known to
//          understand `or`: configuration or the start-up probe)
//   scan = one read of every user, its pages in parallel, shared by the whole request; never
//          beyond UPSTREAM_SCAN_LIMIT
// Once a scan has been made in a request, every later lookup is answered from it for free.

export type UserReads = ReturnType<typeof createUserReads>;

type Attribute = 'id' | 'userName' | 'externalId';

export function createUserReads(env: ReadEnv, record: (decision: Decision) => void) {
  const { scim, upstream, config, call } = env;
  let scan: Promise<ScimUser[]> | undefined;

  const prime = (users: Iterable<ScimUser>) => {
    for (const user of users) {
      byId.prime(user.id, user);
      byUserName.prime(user.userName, user);
      byUserName.prime(userNameKey(user.userName), user);
    }
  };

  /**
   * Every user of the node, read once per request (bounded by UPSTREAM_SCAN_LIMIT). Refused
   * before any call when the node's user count already exceeds the limit.
   */
  const allUsers = (): Promise<ScimUser[]> => {
    if (scan) return scan;
    if (!planScan(planLimits(env)).ok) return Promise.reject(new ScanLimitError(config.scanLimit));
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

  /** The users among `keys`, by the strategy the plan chooses for the batch. */
  async function lookup(
    loader: string,
    attribute: Attribute,
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
      ...planLimits(env),
      keys: keys.length,
      orChunks: orChunks?.length,
      scanned: scan !== undefined,
    });
    record({ loader, keys: keys.length, strategy });
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
    record({ loader: 'userByUserName', keys: missed, strategy: 'scan' });
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

  const byId: DataLoader<string, ScimUser | null> = new DataLoader(
    (ids) => lookup('userById', 'id', ids, (u) => u.id, getById),
    { maxBatchSize: 1000 },
  );

  // Keys are user names as the caller spelled them, sent upstream unchanged; the answer is
  // matched without case (Keeper's userName is unique case-insensitively).
  const byUserName: DataLoader<string, ScimUser | null> = new DataLoader(
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
  const byExternalId: DataLoader<string, ScimUser | null> = new DataLoader(
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

  return {
    byId,
    byUserName,
    byExternalId,
    allUsers,
    prime,
    /** Whether a full user scan has already been made (or started) in this request. */
    hasScanned: () => scan !== undefined,
  };
}
