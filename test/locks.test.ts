import { performance } from 'node:perf_hooks';
import { describe, expect, it } from 'vitest';
import { createMemoryLocks } from '../src/locks.ts';
import { GroupBusyError } from '../src/stores/errors.ts';

// The in-process lock behind read-modify-write mutations: one holder per key, waiters served
// first come first served, a lease that frees a forgotten lock, and waits bounded by a deadline.

const tick = () => new Promise((resolve) => setTimeout(resolve, 5));

describe('memory locks', () => {
  it('serves one holder per key at a time, in arrival order; other keys are independent', async () => {
    const locks = createMemoryLocks();
    const order: string[] = [];
    const first = await locks.acquire('a');
    const waiting = ['b1', 'b2', 'b3'].map((name) =>
      locks.acquire('a').then(async (lease) => {
        order.push(name);
        await tick();
        await lease.release();
      }),
    );
    const other = await locks.acquire('other');
    await tick();
    expect(order).toEqual([]);
    await first.release();
    await Promise.all(waiting);
    expect(order).toEqual(['b1', 'b2', 'b3']);
    await other.release();
    // Released twice: nothing happens; the key is free again.
    await first.release();
    const again = await locks.acquire('a');
    await again.release();
  });

  it('frees a lock whose holder never releases it once the lease runs out', async () => {
    const locks = createMemoryLocks({ leaseMs: 30 });
    const forgotten = await locks.acquire('a');
    const started = performance.now();
    const next = await locks.acquire('a');
    expect(performance.now() - started).toBeGreaterThanOrEqual(25);
    await expect(forgotten.assertHeld()).rejects.toBeInstanceOf(GroupBusyError);
    await next.assertHeld();
    expect(next.fencingToken).toBeGreaterThan(forgotten.fencingToken);
    await next.release();
  });

  it('stops waiting at the deadline or on abort, and the lock still passes on', async () => {
    const locks = createMemoryLocks();
    const held = await locks.acquire('a');
    await expect(locks.acquire('a', { deadline: performance.now() + 20 })).rejects.toBeInstanceOf(
      GroupBusyError,
    );
    const controller = new AbortController();
    const aborted = locks.acquire('a', { signal: controller.signal });
    controller.abort(new Error('caller went away'));
    await expect(aborted).rejects.toThrow('caller went away');
    const next = locks.acquire('a');
    await held.release();
    await (await next).release();
  });
});
