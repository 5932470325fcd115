import { GraphQLError } from 'graphql';
import { describe, expect, it } from 'vitest';
import { maskError } from '../../src/errors.ts';
import { createMemoryGroupLocks } from '../../src/locks.ts';
import { GroupBusyError, SharedStateUnavailableError } from '../../src/stores/errors.ts';

// The in-process group locks (the default without REDIS_URL), and how lock and store failures
// reach callers.

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('in-memory group locks', () => {
  it('runs holders of one name one at a time, in arrival order, and other names alongside', async () => {
    const locks = createMemoryGroupLocks();
    const order: string[] = [];
    const job = (name: string, id: string, ms: number) =>
      locks.withLock(name, async () => {
        order.push(`${id}+`);
        await sleep(ms);
        order.push(`${id}-`);
      });
    await Promise.all([job('a', '1', 20), job('a', '2', 1), job('b', '3', 1), job('a', '4', 1)]);
    expect(
      order.filter((e) => e.startsWith('1') || e.startsWith('2') || e.startsWith('4')),
    ).toEqual(['1+', '1-', '2+', '2-', '4+', '4-']);
    // b did not wait for a.
    expect(order.indexOf('3-')).toBeLessThan(order.indexOf('1-'));
  });

  it('gives up waiting at the deadline with GroupBusyError, and the queue goes on', async () => {
    const locks = createMemoryGroupLocks();
    let release = () => {};
    const holder = locks.withLock('g', () => new Promise<void>((r) => (release = r)));
    const late = locks.withLock('g', async () => 'ran', { deadline: performance.now() + 30 });
    await expect(late).rejects.toEqual(new GroupBusyError('deadline'));
    const next = locks.withLock('g', async () => 'next');
    release();
    await holder;
    expect(await next).toBe('next');
  });

  it('stops waiting when the caller aborts, and releases after a failing holder', async () => {
    const locks = createMemoryGroupLocks();
    const controller = new AbortController();
    const holder = locks.withLock('g', () => sleep(50).then(() => Promise.reject(new Error('x'))));
    const waiting = locks.withLock('g', async () => 'ran', { signal: controller.signal });
    controller.abort(new Error('caller left'));
    await expect(waiting).rejects.toThrow('caller left');
    await expect(holder).rejects.toThrow('x');
    expect(await locks.withLock('g', async () => 'free')).toBe('free');
  });
});

describe('errors of shared state', () => {
  it('reach callers as retryable codes with nothing internal', () => {
    const down = maskError(
      new SharedStateUnavailableError('group lock', new Error('ECONNREFUSED')),
    );
    expect(down).toBeInstanceOf(GraphQLError);
    expect(down.extensions).toEqual({ code: 'SHARED_STATE_UNAVAILABLE', retryable: true });
    expect(down.message).not.toContain('ECONNREFUSED');
    const busy = maskError(new GroupBusyError('deadline'));
    expect(busy.extensions).toEqual({ code: 'GROUP_BUSY', retryable: true });
  });
});
