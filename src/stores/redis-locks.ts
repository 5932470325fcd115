import { randomUUID } from 'node:crypto';
import { performance } from 'node:perf_hooks';
import type { GroupLocks, HeldLock, LockOptions } from '../locks.ts';
import { GroupBusyError } from './errors.ts';
import { createWakeups, type RedisConnection } from './redis.ts';

// Per-name write locks on Redis (one name per group), so that read-modify-write mutations on one
// group run one at a time across all replicas.
// - A lock is a key holding `<fencing token>:<owner>` with a lease (PX). The fencing token is a
//   counter that grows with every acquisition of that name.
// - Its holder extends the lease (a third of it at a time) while it works; a replica that dies
//   holds the group for at most one lease.
// - Release is a compare-and-delete on the owner (Lua) followed by a PUBLISH that wakes waiters on
//   every replica; waiters also poll, and give up at the request's deadline.
// - Keeper cannot check a fencing token, so the holder checks it instead: `assertHeld` before each
//   write fails with GroupBusyError when the lease was lost (a long pause, Redis unreachable), so
//   a replica that lost its lock does not write on; what remains is the length of one upstream
//   call.

type LockLease = HeldLock & {
  /** Grows with every acquisition of the same name; tells holders apart in logs. */
  readonly fencingToken: number;
  release(): Promise<void>;
};

export interface RedisLocks extends GroupLocks {
  acquire(name: string, options?: LockOptions): Promise<LockLease>;
  withLock<T>(name: string, fn: (lock: LockLease) => Promise<T>, options?: LockOptions): Promise<T>;
}

export type RedisLocksOptions = {
  /** How long a lock lasts without being extended. @default 10000 */
  leaseMs?: number;
  /** How often a waiter tries again without a release message. @default 200 */
  pollMs?: number;
};

const CHANNEL = 'lock:released';

// KEYS: lock, fencing counter. ARGV: owner, lease ms. {1, token} or {0, ms the holder has left}.
const ACQUIRE = `
if redis.call('EXISTS', KEYS[1]) == 1 then return {0, redis.call('PTTL', KEYS[1])} end
local token = redis.call('INCR', KEYS[2])
redis.call('SET', KEYS[1], token .. ':' .. ARGV[1], 'PX', ARGV[2])
return {1, token}
`;

// KEYS: lock. ARGV: value, lease ms (0 = only check).
const EXTEND = `
if redis.call('GET', KEYS[1]) ~= ARGV[1] then return 0 end
if tonumber(ARGV[2]) > 0 then redis.call('PEXPIRE', KEYS[1], ARGV[2]) end
return 1
`;

// KEYS: lock. ARGV: value, channel, name.
const RELEASE = `
if redis.call('GET', KEYS[1]) ~= ARGV[1] then return 0 end
redis.call('DEL', KEYS[1])
redis.call('PUBLISH', ARGV[2], ARGV[3])
return 1
`;

export function createRedisLocks(
  redis: RedisConnection,
  options: RedisLocksOptions = {},
): RedisLocks {
  const leaseMs = options.leaseMs ?? 10_000;
  const pollMs = options.pollMs ?? 200;
  const channel = redis.key(CHANNEL);
  const lockKey = (name: string) => redis.key('lock', name);
  const fenceKey = (name: string) => redis.key('lock-fence', name);
  const wakeups = createWakeups(redis, CHANNEL);

  const acquire: RedisLocks['acquire'] = async (name, opts = {}) => {
    const owner = randomUUID();
    for (;;) {
      opts.signal?.throwIfAborted();
      const [got, n] = (await redis.script(
        'group lock',
        ACQUIRE,
        [lockKey(name), fenceKey(name)],
        [owner, leaseMs],
      )) as [number, number];
      if (got === 1) return lease(name, `${n}:${owner}`, n);
      const left = (opts.deadline ?? Number.POSITIVE_INFINITY) - performance.now();
      if (left <= 0) throw new GroupBusyError('deadline');
      // The holder's lease left (n) bounds the wait if its release message never comes.
      await wakeups.wait(name, Math.min(pollMs, n > 0 ? n : pollMs, left), opts.signal);
    }
  };

  function lease(name: string, value: string, fencingToken: number): LockLease {
    let lost = false;
    const timer = setInterval(() => {
      redis
        .script('group lock lease', EXTEND, [lockKey(name)], [value, leaseMs])
        .then((held) => {
          if (held !== 1) lost = true;
        })
        .catch(() => {
          // Redis is away: the lease may lapse; assertHeld finds out before the next write.
        });
    }, leaseMs / 3);
    timer.unref();
    return {
      fencingToken,
      async assertHeld() {
        if (lost) throw new GroupBusyError('lost');
        const held = await redis.script('group lock', EXTEND, [lockKey(name)], [value, 0]);
        if (held !== 1) {
          lost = true;
          throw new GroupBusyError('lost');
        }
      },
      async release() {
        clearInterval(timer);
        // If Redis is away the lease simply runs out.
        await redis
          .script('group unlock', RELEASE, [lockKey(name)], [value, channel, name])
          .catch(() => {});
      },
    };
  }

  return {
    acquire,
    async withLock(name, fn, opts) {
      const held = await acquire(name, opts);
      try {
        return await fn(held);
      } finally {
        await held.release();
      }
    },
  };
}
