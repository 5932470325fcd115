import { randomUUID } from 'node:crypto';
import type { IdempotencyOutcome, IdempotencyStore } from '../idempotency.ts';
import { createWakeups, type RedisConnection } from './redis.ts';

// The idempotency store (src/idempotency.ts) on Redis, for replicas. One string per key,
// `<state>\n<fingerprint>\n<owner>\n<lease until, ms>\n<result JSON>`, with state `i` (in flight),
// `d` (done) or `u` (uncertain), and the key's whole TTL on it from the first claim.
// - begin: an atomic claim (SET NX PX) and, when the key exists, one Lua step that reads it or
//   takes it over, on Redis's clock. An in-flight entry whose lease ran out belongs to a replica
//   that died (or lost Redis) mid-call: its write may have landed, so it counts as uncertain and
//   the next caller looks before it writes.
// - While a call runs, its replica extends the lease (a third of it at a time); a crashed
//   replica therefore holds a key for at most one lease.
// - finish: a compare-and-set on the owner token (Lua), then a PUBLISH that wakes waiters on
//   every replica; waiters also poll, so a message lost to a reconnect costs at most a poll.
// - A failing finish is swallowed: the write happened and its answer must reach the caller; the
//   entry stops being extended and turns uncertain when its lease runs out.

export type RedisIdempotencyOptions = {
  /** How long a key is remembered (IDEMPOTENCY_TTL_SECONDS). */
  ttlMs: number;
  /** How long an in-flight claim lasts without being extended. @default 15000 */
  leaseMs?: number;
  /** How often a waiter looks again without a message. @default 250 */
  pollMs?: number;
  /**
   * Largest stored result (JSON bytes). A bigger one is stored as uncertain: a repetition then
   * looks the object up (creates) or runs again (everything else is safe to repeat).
   * @default 65536
   */
  maxValueBytes?: number;
  /** Told when a finish could not be stored (never with the key's value). */
  log?: (message: string) => void;
};

const CHANNEL = 'idempotency:settled';

// Shared header parsing of an entry, for the scripts below.
const PARSE = `
local function parse(v)
  local header = string.match(v, '^%a\\n[^\\n]*\\n[^\\n]*\\n[^\\n]*\\n')
  if not header then return nil end
  local state, fp, owner, lease = string.match(header, '^(%a)\\n([^\\n]*)\\n([^\\n]*)\\n([^\\n]*)\\n')
  return state, fp, owner, tonumber(lease) or 0, string.sub(v, #header + 1)
end
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
`;

// KEYS: entry. ARGV: fingerprint, owner, lease ms, ttl ms.
// Returns {'new', previousUncertain}, {'done', fp, result}, {'in-flight', fp, ms left}.
const BEGIN = `${PARSE}
local claim = 'i\\n' .. ARGV[1] .. '\\n' .. ARGV[2] .. '\\n' .. (now + tonumber(ARGV[3])) .. '\\n'
if redis.call('SET', KEYS[1], claim, 'NX', 'PX', ARGV[4]) then return {'new', '0'} end
local state, fp, owner, lease, result = parse(redis.call('GET', KEYS[1]) or '')
if state == 'd' then return {'done', fp, result} end
if state == 'i' and lease > now then return {'in-flight', fp, tostring(lease - now)} end
if state and fp ~= ARGV[1] then return {'in-flight', fp, '0'} end
redis.call('SET', KEYS[1], claim, 'PX', ARGV[4])
return {'new', state and '1' or '0'}
`;

// KEYS: entry. ARGV: owner, lease ms. Extends the lease if the caller still owns the claim.
const EXTEND = `${PARSE}
local v = redis.call('GET', KEYS[1])
if not v then return 0 end
local state, fp, owner = parse(v)
if state ~= 'i' or owner ~= ARGV[1] then return 0 end
redis.call('SET', KEYS[1], 'i\\n' .. fp .. '\\n' .. owner .. '\\n' .. (now + tonumber(ARGV[2])) .. '\\n', 'KEEPTTL')
return 1
`;

// KEYS: entry. ARGV: owner, new state (d, u, or r = release), result JSON, ttl ms, channel, key.
const FINISH = `${PARSE}
local v = redis.call('GET', KEYS[1])
if not v then return 0 end
local state, fp, owner = parse(v)
if state ~= 'i' or owner ~= ARGV[1] then return 0 end
if ARGV[2] == 'r' then
  redis.call('DEL', KEYS[1])
else
  redis.call('SET', KEYS[1], ARGV[2] .. '\\n' .. fp .. '\\n\\n0\\n' .. ARGV[3], 'PX', ARGV[4])
end
redis.call('PUBLISH', ARGV[5], ARGV[6])
return 1
`;

export function createRedisIdempotencyStore(
  redis: RedisConnection,
  options: RedisIdempotencyOptions,
): IdempotencyStore & { listening(): Promise<unknown> } {
  const leaseMs = options.leaseMs ?? 15_000;
  const pollMs = options.pollMs ?? 250;
  const maxValueBytes = options.maxValueBytes ?? 65_536;
  const log = options.log ?? (() => {});
  const entryKey = (key: string) => redis.key('idempotency', key);
  const channel = redis.key(CHANNEL);
  /** Claims this replica holds: owner token and the lease-extending timer. */
  const held = new Map<string, { owner: string; timer: NodeJS.Timeout }>();
  /** Wakes callers waiting for a key another replica holds. */
  const wakeups = createWakeups(redis, CHANNEL);

  return {
    /** Resolves once this replica hears finishes of other replicas (else waiters only poll). */
    listening: () => wakeups.listening(),
    async begin(key, fingerprint) {
      const owner = randomUUID();
      const [state, a, b] = (await redis.script(
        'idempotency key',
        BEGIN,
        [entryKey(key)],
        [fingerprint, owner, leaseMs, options.ttlMs],
      )) as [string, string, string | undefined];
      if (state === 'done') {
        return { state: 'done', fingerprint: a, result: JSON.parse(b ?? 'null') };
      }
      if (state === 'in-flight') {
        return {
          state: 'in-flight',
          fingerprint: a,
          settled: wakeups.wait(key, Math.min(pollMs, Number(b))),
        };
      }
      const timer = setInterval(() => {
        redis.script('idempotency lease', EXTEND, [entryKey(key)], [owner, leaseMs]).catch(() => {
          // Redis is away: the lease lapses and the key turns uncertain, which is safe.
        });
      }, leaseMs / 3);
      timer.unref();
      held.set(key, { owner, timer });
      return { state: 'new', previousUncertain: a === '1' };
    },

    async finish(key, _fingerprint, outcome) {
      const claim = held.get(key);
      if (!claim) return;
      held.delete(key);
      clearInterval(claim.timer);
      const [state, result] = encode(outcome, maxValueBytes);
      try {
        await redis.script(
          'idempotency finish',
          FINISH,
          [entryKey(key)],
          [claim.owner, state, result, options.ttlMs, channel, key],
        );
      } catch {
        log(
          'an idempotency key could not be stored (Redis unreachable); it counts as uncertain once its lease ends',
        );
      }
    },
  };
}

function encode(outcome: IdempotencyOutcome, maxValueBytes: number): [string, string] {
  if (outcome.kind === 'release') return ['r', ''];
  if (outcome.kind === 'uncertain') return ['u', ''];
  const json = JSON.stringify(outcome.result) ?? 'null';
  // Too big to keep: remember only that a write happened, so a repetition looks before it writes.
  return Buffer.byteLength(json) > maxValueBytes ? ['u', ''] : ['d', json];
}
