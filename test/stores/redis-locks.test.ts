import { describe, expect, it } from 'vitest';
import { GroupBusyError, SharedStateUnavailableError } from '../../src/stores/errors.ts';
import { createRedisLocks } from '../../src/stores/redis-locks.ts';
import { redisAvailable, useRedis } from '../redis.ts';

// Group locks on a real Redis, two connections standing for two replicas.

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe.runIf(redisAvailable)('Redis group locks', () => {
  const redis = useRedis();
  let n = 0;

  function pair(leaseMs = 10_000, pollMs = 5_000) {
    const keyPrefix = `locks${++n}:`;
    const make = () => {
      const c = redis.connect(keyPrefix);
      return { locks: createRedisLocks(c, { leaseMs, pollMs }), connection: c };
    };
    return [make(), make()] as const;
  }

  it('lets one holder at a time in, across replicas, with growing fencing tokens', async () => {
    const [a, b] = pair(10_000, 20);
    let value = 0;
    let inside = 0;
    let most = 0;
    const tokens: number[] = [];
    await Promise.all(
      Array.from({ length: 20 }, (_, i) =>
        (i % 2 ? a : b).locks.withLock('team-1', async (lease) => {
          tokens.push(lease.fencingToken);
          inside += 1;
          most = Math.max(most, inside);
          const read = value;
          await sleep(2);
          value = read + 1;
          inside -= 1;
        }),
      ),
    );
    expect(value).toBe(20);
    expect(most).toBe(1);
    expect(tokens).toEqual(Array.from({ length: 20 }, (_, i) => i + 1));
  });

  it('wakes a waiter on another replica by the release message, not the poll', async () => {
    const [a, b] = pair();
    const held = await a.locks.acquire('team-2');
    const waiting = b.locks.acquire('team-2');
    await sleep(100);
    const released = performance.now();
    await held.release();
    const next = await waiting;
    expect(performance.now() - released).toBeLessThan(1000);
    expect(next.fencingToken).toBe(2);
    await next.release();
  });

  it('frees the group of a replica that died after one lease, and keeps a live holder past it', async () => {
    const [a, b] = pair(300, 50);
    const live = await a.locks.acquire('live');
    await sleep(700);
    await expect(b.locks.acquire('live', { deadline: performance.now() + 50 })).rejects.toEqual(
      new GroupBusyError('deadline'),
    );
    await live.assertHeld();
    await live.release();

    await a.locks.acquire('dead');
    a.connection.client.disconnect(); // A "dies": nobody extends its lease any more
    const started = performance.now();
    const taken = await b.locks.acquire('dead');
    expect(performance.now() - started).toBeLessThan(1000);
    expect(taken.fencingToken).toBe(2);
    await taken.release();
  });

  it('tells a holder that lost its lease before it writes', async () => {
    const [a, b] = pair(10_000);
    const lease = await a.locks.acquire('lost');
    await b.connection.run('test', (c) => c.del(b.connection.key('lock', 'lost')));
    await b.locks.acquire('lost');
    await expect(lease.assertHeld()).rejects.toEqual(new GroupBusyError('lost'));
  });

  it('fails to lock with a typed error while Redis is down', async () => {
    const [a] = pair();
    await a.locks.acquire('warm').then((l) => l.release());
    await redis.server.stop();
    try {
      await expect(a.locks.acquire('x')).rejects.toBeInstanceOf(SharedStateUnavailableError);
    } finally {
      await redis.server.start();
    }
  });
});
