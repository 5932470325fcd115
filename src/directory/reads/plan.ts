// How a batch of user lookups, or a question that needs every user, is fetched: a pure function
// of counts, so that every decision can be table-tested without an upstream.
//
// A plan is judged by, in this order:
//   1. rounds: waves of calls that wait on each other; `n` independent calls with at most
//      `concurrency` in flight take ceil(n / concurrency) rounds, and a scan of unknown size
//      needs its first page before it can ask for the rest (one more round);
//   2. transfer: user records carried by the answers, plus CALL_COST_USERS for every call (an
//      HTTP exchange costs headers both ways and per-request work on both ends, whatever it
//      carries), so that a few hundred users in two pages beat fifty single GETs, and fifty
//      GETs beat a node of thousands;
//   3. calls; then the order get, or, scan (exact 404s, smaller answers).
// A scan the scan limit forbids is never chosen; a question that cannot be answered without one
// fails before any call when the user count says it would exceed the limit.

/**
 * What one more call costs, counted in user records carried. Measured on the emulator (client and
 * server CPU together), one GET costs as much as 20 to 35 users in a page of 500 parsed with zod,
 * and more once pages are parsed lean (src/scim/lean.ts); a real upstream adds its own work per
 * request (authentication, a database round trip) that a record in a page does not pay. 96 sits
 * in the range where two pages of the 520-user demo node beat fifty GETs or six `or` chunks, and
 * fifty GETs beat ten pages of a 5 000-user node.
 */
export const CALL_COST_USERS = 96;

export type LookupStrategy = 'get' | 'or' | 'scan';

export type PlanLimits = {
  /** Users in the node as last counted; `undefined` when not known yet. */
  userCount: number | undefined;
  /** `count` asked per page of a scan. */
  pageSize: number;
  /** Most calls of one request in flight at once. */
  concurrency: number;
  /** Most users one request may scan. */
  scanLimit: number;
};

export type LookupInput = PlanLimits & {
  /** Distinct keys in the batch. */
  keys: number;
  /** Calls an `or` filter lookup of the keys needs; `undefined` when `or` is not understood. */
  orChunks: number | undefined;
  /** A scan of every user has been made (or started) in this request: lookups are free. */
  scanned: boolean;
};

export type Cost = { calls: number; rounds: number; users: number };

export type LookupPlan = Cost & { strategy: LookupStrategy };

export type ScanPlan =
  | (Cost & { ok: true /** Whether the pages can all be asked at once. */; sizeKnown: boolean })
  | { ok: false; reason: 'scan-limit' };

const wave = (calls: number, concurrency: number) =>
  calls === 0 ? 0 : Math.ceil(calls / Math.max(1, concurrency));

/**
 * A read of every user. With a known count every page is asked at once (bounded by
 * `concurrency`); without one the first page tells the size and the rest follow in parallel.
 * Refused when the count exceeds the scan limit: the question cannot be answered whole.
 */
export function planScan(limits: PlanLimits): ScanPlan {
  const { userCount, pageSize, concurrency, scanLimit } = limits;
  if (userCount !== undefined && userCount > scanLimit) return { ok: false, reason: 'scan-limit' };
  if (userCount === undefined) {
    // At most the scan limit is read; size the plan for that worst case.
    const pages = Math.max(1, Math.ceil(scanLimit / pageSize));
    return {
      ok: true,
      sizeKnown: false,
      calls: pages,
      rounds: 1 + wave(pages - 1, concurrency),
      users: scanLimit,
    };
  }
  const pages = Math.max(1, Math.ceil(userCount / pageSize));
  return {
    ok: true,
    sizeKnown: true,
    calls: pages,
    rounds: wave(pages, concurrency),
    users: userCount,
  };
}

/** The cheapest way to fetch a batch of users by id, userName or externalId. */
export function planLookup(input: LookupInput): LookupPlan {
  const { keys, orChunks, concurrency, scanned } = input;
  if (scanned) return { strategy: 'scan', calls: 0, rounds: 0, users: 0 };
  const options: LookupPlan[] = [
    { strategy: 'get', calls: keys, rounds: wave(keys, concurrency), users: keys },
  ];
  if (orChunks !== undefined) {
    options.push({
      strategy: 'or',
      calls: orChunks,
      rounds: wave(orChunks, concurrency),
      users: keys,
    });
  }
  const scan = planScan(input);
  // A scan of unknown size is never chosen for a lookup: its cost is a guess.
  if (scan.ok && scan.sizeKnown) {
    options.push({ strategy: 'scan', calls: scan.calls, rounds: scan.rounds, users: scan.users });
  }
  return options.reduce((best, next) => (compare(next, best) < 0 ? next : best));
}

const transfer = (c: Cost) => c.users + c.calls * CALL_COST_USERS;

/** Negative when `a` is the better plan. Ties keep the earlier option (get, or, scan). */
export function compare(a: Cost, b: Cost): number {
  return a.rounds - b.rounds || transfer(a) - transfer(b) || a.calls - b.calls;
}
