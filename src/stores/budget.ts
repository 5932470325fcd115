import { type CallerLimiter, createRateLimiter } from '../caller-auth.ts';
import type { BudgetDecision, UpstreamBudget } from '../scim/budget.ts';
import type { RedisConnection } from './redis.ts';

// The upstream budget (src/scim/budget.ts), in memory for one process and on Redis for all
// replicas. The rate is kept as GCRA (the "generic cell rate algorithm", a token bucket written
// as one timestamp): `tat` is the earliest time the next call may start; a reservation takes
// max(now, tat, pausedUntil) and moves `tat` one interval on. Calls are therefore spaced
// 1/rate apart, and in any window of T seconds at most rate·T + 1 calls start, whichever replica
// sends them. A reservation is a single step (a Lua script on Redis), so there is no
// check-then-take race between replicas, and it returns the wait instead of making callers poll.
// Time on Redis is Redis's own clock (TIME), so the replicas' clocks need not agree.
//
// rate-limiter-flexible's RateLimiterRedis counts points in fixed windows, which lets 2·rate calls
// through around a window boundary, and it has no notion of a pause set by the upstream; the
// dozen lines of Lua below give both exactly.

export type BudgetOptions = {
  /** Calls per second; `undefined` = no rate, only the pauses after 429s. */
  ratePerSecond: number | undefined;
};

export function createMemoryBudget(
  options: BudgetOptions & { now?: () => number },
): UpstreamBudget {
  const now = options.now ?? (() => performance.now());
  const interval = options.ratePerSecond ? 1000 / options.ratePerSecond : 0;
  let tat = Number.NEGATIVE_INFINITY;
  let pausedUntil = Number.NEGATIVE_INFINITY;
  return {
    async reserve(maxWaitMs) {
      const t = now();
      const start = Math.max(t, pausedUntil, interval > 0 ? tat : t);
      const wait = start - t;
      if (wait > maxWaitMs) return { refusedForMs: wait };
      if (interval > 0) tat = start + interval;
      return { waitMs: wait };
    },
    async onRateLimited(retryAfterMs) {
      pausedUntil = Math.max(pausedUntil, now() + retryAfterMs);
    },
  };
}

// KEYS: tat, pausedUntil. ARGV: interval ms (0 = no rate), most ms the caller can wait.
// Returns {1, wait} with a reserved slot, or {0, wait} refused (nothing reserved).
const RESERVE = `
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local interval = tonumber(ARGV[1])
local start = now
local paused = tonumber(redis.call('GET', KEYS[2]) or '0')
if paused > start then start = paused end
if interval > 0 then
  local tat = tonumber(redis.call('GET', KEYS[1]) or '0')
  if tat > start then start = tat end
end
local wait = start - now
if wait > tonumber(ARGV[2]) then return {0, wait} end
if interval > 0 then
  redis.call('SET', KEYS[1], start + interval, 'PX', math.ceil(start + interval - now) + 1000)
end
return {1, wait}
`;

// KEYS: pausedUntil. ARGV: ms from now. Only ever moves the pause later.
const PAUSE = `
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local untilMs = now + tonumber(ARGV[1])
local paused = tonumber(redis.call('GET', KEYS[1]) or '0')
if untilMs > paused then
  redis.call('SET', KEYS[1], untilMs, 'PX', tonumber(ARGV[1]) + 1000)
end
return 1
`;

/**
 * The budget for all replicas on one Redis. While Redis cannot be reached, each replica keeps to
 * its own in-memory budget (the same rate, and the pauses it saw itself): reads go on, and the
 * upstream sees at most replicas × rate until Redis is back.
 */
export function createRedisBudget(
  redis: RedisConnection,
  options: BudgetOptions,
): UpstreamBudget & { fallbacks(): number } {
  const interval = options.ratePerSecond ? 1000 / options.ratePerSecond : 0;
  const local = createMemoryBudget(options);
  const tatKey = redis.key('upstream', 'tat');
  const pausedKey = redis.key('upstream', 'paused-until');
  let fallbacks = 0;
  return {
    async reserve(maxWaitMs) {
      try {
        const [reserved, wait] = (await redis.script(
          'upstream budget',
          RESERVE,
          [tatKey, pausedKey],
          [interval, Math.max(0, Math.floor(maxWaitMs))],
        )) as [number, number];
        return (reserved === 1 ? { waitMs: wait } : { refusedForMs: wait }) as BudgetDecision;
      } catch {
        fallbacks += 1;
        return local.reserve(maxWaitMs);
      }
    },
    async onRateLimited(retryAfterMs) {
      await local.onRateLimited(retryAfterMs);
      try {
        await redis.script('upstream pause', PAUSE, [pausedKey], [Math.ceil(retryAfterMs)]);
      } catch {
        fallbacks += 1;
      }
    },
    fallbacks: () => fallbacks,
  };
}

/**
 * CALLER_RATE_LIMIT for all replicas on one Redis: the budget's GCRA script above with one `tat`
 * key per caller. Allowing a reservation up to a minute less one interval ahead of now is a
 * token bucket holding a minute's worth (as the in-memory limiter): a request is let through at
 * once, or refused with the time until it would be let through. While Redis cannot be reached,
 * each replica counts in its own memory, as the budget does.
 */
export function createRedisCallerLimiter(
  redis: RedisConnection,
  perMinute: number,
): CallerLimiter & { fallbacks(): number } {
  const interval = 60_000 / perMinute;
  const burstMs = Math.max(0, 60_000 - interval);
  const local = createRateLimiter(perMinute);
  let fallbacks = 0;
  return {
    async take(caller) {
      try {
        const [reserved, wait] = (await redis.script(
          'caller rate',
          RESERVE,
          [redis.key('caller', caller, 'tat'), redis.key('caller', caller, 'paused-until')],
          [interval, burstMs],
        )) as [number, number];
        return reserved === 1 ? undefined : Math.max(1, wait - burstMs);
      } catch {
        fallbacks += 1;
        return local.take(caller);
      }
    },
    fallbacks: () => fallbacks,
  };
}
