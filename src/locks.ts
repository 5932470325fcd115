import { performance } from 'node:perf_hooks';
import { GroupBusyError } from './stores/errors.ts';

// Write locks per group for the mutations that read a group and then write it (setTeamMembers
// computes a difference from the members it read; deleteTeam/deleteRole check the group first),
// and per group name for the creates and renames that check a name is free before taking it.
// Without them, concurrent calls each write from a stale read and the result is a set nobody
// asked for. One interface, two implementations: in this process (the default) and on Redis for
// replicas (src/stores/redis-locks.ts).

export type HeldLock = {
  /**
   * Rejects with GroupBusyError when the lock is no longer held (a shared lock's lease ran out):
   * call it right before writing, so that a holder that lost its lock writes nothing.
   */
  assertHeld(): Promise<void>;
};

export type LockOptions = {
  /** Stop waiting when the caller goes away (rejects with the signal's reason). */
  signal?: AbortSignal | undefined;
  /** Stop waiting then (the `performance.now()` clock), with GroupBusyError. */
  deadline?: number | undefined;
};

export interface GroupLocks {
  /** Runs `fn` holding the write lock of `name`, one holder at a time; releases it however `fn` ends. */
  withLock<T>(name: string, fn: (lock: HeldLock) => Promise<T>, options?: LockOptions): Promise<T>;
}

/** Lock name of a SCIM group (a team or a role: one id space). */
export const groupLockName = (groupId: string) => `group:${groupId}`;

/**
 * Lock name of a group name (compared without case, as the name checks compare): held from
 * "the name is free" to the write that takes it, so that concurrent creates and renames with one
 * name cannot all find it free.
 */
export const groupNameLockName = (displayName: string) => `group-name:${displayName.toLowerCase()}`;

/** Locks of one process: a FIFO queue per name, dropped when empty. */
export function createMemoryGroupLocks(): GroupLocks {
  const tails = new Map<string, Promise<void>>();
  const held: HeldLock = { assertHeld: async () => {} };
  return {
    async withLock(name, fn, options = {}) {
      const previous = tails.get(name) ?? Promise.resolve();
      let release = () => {};
      const mine = new Promise<void>((resolve) => {
        release = resolve;
      });
      // The next caller waits for this one, whether it runs or gives up waiting.
      const tail = previous.then(() => mine);
      tails.set(name, tail);
      try {
        await waitFor(previous, options);
        return await fn(held);
      } finally {
        release();
        if (tails.get(name) === tail) tails.delete(name);
      }
    },
  };
}

/** Waits for `turn`, giving up at the deadline (GroupBusyError) or when the signal aborts. */
async function waitFor(turn: Promise<void>, { signal, deadline }: LockOptions): Promise<void> {
  signal?.throwIfAborted();
  const left = (deadline ?? Number.POSITIVE_INFINITY) - performance.now();
  if (left === Number.POSITIVE_INFINITY && !signal) return turn;
  let timer: NodeJS.Timeout | undefined;
  let onAbort = () => {};
  try {
    await Promise.race([
      turn,
      new Promise<never>((_, reject) => {
        if (left !== Number.POSITIVE_INFINITY) {
          timer = setTimeout(() => reject(new GroupBusyError('deadline')), Math.max(0, left));
        }
        onAbort = () => reject(signal?.reason);
        signal?.addEventListener('abort', onAbort, { once: true });
      }),
    ]);
  } finally {
    clearTimeout(timer);
    signal?.removeEventListener('abort', onAbort);
  }
}
