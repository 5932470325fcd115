import { performance } from 'node:perf_hooks';
import { GroupBusyError } from './stores/errors.ts';

// Mutual exclusion for read-modify-write mutations: a mutation that reads a group, decides, then
// writes it (setTeamMembers computes a difference, deleteTeam checks the externalId) holds the
// group's lock from the read to the write, so that two such calls cannot both decide from the
// same stale read. `Locks` is the shape the Redis implementation (stores/redis-locks.ts) also
// has; this one serves one process: a FIFO of waiters per name.

export type LockLease = {
  /** Grows with every acquisition of the same name; tells holders apart in logs. */
  readonly fencingToken: number;
  /** Rejects with GroupBusyError when the lease is no longer this holder's. */
  assertHeld(): Promise<void>;
  /** Frees the lock for the next waiter; a second release, or one after the lease, does nothing. */
  release(): Promise<void>;
};

export type AcquireOptions = {
  /** Stop waiting when the caller goes away; `acquire` rejects with the signal's reason. */
  signal?: AbortSignal;
  /** Stop waiting then (the `performance.now()` clock), with GroupBusyError. */
  deadline?: number;
};

export interface Locks {
  /** Waits until `name` is free (first come, first served), then holds it. */
  acquire(name: string, options?: AcquireOptions): Promise<LockLease>;
  /** Runs `fn` holding the lock on `name`, and releases it however `fn` ends. */
  withLock<T>(
    name: string,
    fn: (lease: LockLease) => Promise<T>,
    options?: AcquireOptions,
  ): Promise<T>;
}

export type MemoryLocksOptions = {
  /**
   * A lock frees itself after this long even if never released: a safety net against a holder
   * that hangs (the request deadline ends every holder's upstream work well before).
   * @default 60000
   */
  leaseMs?: number;
};

type Holder = { token: number; lease: NodeJS.Timeout; queue: (() => void)[] };

export function createMemoryLocks(options: MemoryLocksOptions = {}): Locks {
  const leaseMs = options.leaseMs ?? 60_000;
  const held = new Map<string, Holder>();
  let tokens = 0;

  const free = (name: string, token: number) => {
    const holder = held.get(name);
    if (!holder || holder.token !== token) return;
    clearTimeout(holder.lease);
    held.delete(name);
    // The next waiter takes it (synchronously), with the rest of the queue.
    holder.queue.shift()?.();
  };

  const take = (name: string, queue: (() => void)[]): LockLease => {
    const token = ++tokens;
    const lease = setTimeout(() => free(name, token), leaseMs);
    lease.unref();
    held.set(name, { token, lease, queue });
    return {
      fencingToken: token,
      assertHeld: async () => {
        if (held.get(name)?.token !== token) throw new GroupBusyError('lost');
      },
      release: async () => free(name, token),
    };
  };

  const acquire = async (name: string, opts: AcquireOptions = {}): Promise<LockLease> => {
    const { signal, deadline } = opts;
    signal?.throwIfAborted();
    const holder = held.get(name);
    if (!holder) return take(name, []);
    const { queue } = holder;
    return new Promise<LockLease>((resolve, reject) => {
      let timer: NodeJS.Timeout | undefined;
      const cleanup = () => {
        if (timer) clearTimeout(timer);
        signal?.removeEventListener('abort', onAbort);
      };
      const giveUp = (reason: unknown) => {
        const at = queue.indexOf(grant);
        if (at >= 0) queue.splice(at, 1);
        cleanup();
        reject(reason);
      };
      const onAbort = () => giveUp(signal?.reason);
      const grant = () => {
        cleanup();
        resolve(take(name, queue));
      };
      queue.push(grant);
      signal?.addEventListener('abort', onAbort, { once: true });
      if (deadline !== undefined) {
        timer = setTimeout(
          () => giveUp(new GroupBusyError('deadline')),
          Math.max(0, deadline - performance.now()),
        );
      }
    });
  };

  return {
    acquire,
    async withLock(name, fn, opts) {
      const lease = await acquire(name, opts);
      try {
        return await fn(lease);
      } finally {
        await lease.release();
      }
    },
  };
}
