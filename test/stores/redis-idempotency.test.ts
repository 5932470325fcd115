import { describe, expect, it } from 'vitest';
import { SharedStateUnavailableError } from '../../src/stores/errors.ts';
import { createRedisIdempotencyStore } from '../../src/stores/redis-idempotency.ts';
import { redisAvailable, useRedis } from '../redis.ts';

// The idempotency store on a real Redis, two connections standing for two replicas.

describe.runIf(redisAvailable)('Redis idempotency store', () => {
  const redis = useRedis();
  let n = 0;

  /** Two stores ("replicas") on one prefix, each with its own connection. */
  function pair(options: { leaseMs?: number; maxValueBytes?: number } = {}) {
    const keyPrefix = `idem${++n}:`;
    const make = () => {
      const c = redis.connect(keyPrefix);
      return createRedisIdempotencyStore(c, { ttlMs: 60_000, pollMs: 5_000, ...options });
    };
    return [make(), make()] as const;
  }

  it('claims a key once, replays the result on the other replica, and refuses other input there', async () => {
    const [a, b] = pair();
    await b.listening();
    expect(await a.begin('createTeam:k1', 'fp1')).toEqual({
      state: 'new',
      previousUncertain: false,
    });
    const busy = await b.begin('createTeam:k1', 'fp1');
    expect(busy).toMatchObject({ state: 'in-flight', fingerprint: 'fp1' });
    const woken = busy.state === 'in-flight' ? busy.settled : undefined;
    const started = performance.now();
    await a.finish('createTeam:k1', 'fp1', {
      kind: 'final',
      result: { team: { id: 'T1' }, n: 1.5, s: 'a\nb' },
    });
    await woken;
    // Woken by the PUBLISH, long before the 5 s poll.
    expect(performance.now() - started).toBeLessThan(1000);
    expect(await b.begin('createTeam:k1', 'fp1')).toEqual({
      state: 'done',
      fingerprint: 'fp1',
      result: { team: { id: 'T1' }, n: 1.5, s: 'a\nb' },
    });
    expect(await b.begin('createTeam:k1', 'other')).toMatchObject({
      state: 'done',
      fingerprint: 'fp1',
    });
  });

  it('forgets a released key and remembers an uncertain one, bound to its input', async () => {
    const [a, b] = pair();
    await a.begin('k', 'fp');
    await a.finish('k', 'fp', { kind: 'release' });
    expect(await b.begin('k', 'fp')).toEqual({ state: 'new', previousUncertain: false });
    await b.finish('k', 'fp', { kind: 'uncertain' });
    expect(await a.begin('k', 'other')).toMatchObject({ state: 'in-flight', fingerprint: 'fp' });
    expect(await a.begin('k', 'fp')).toEqual({ state: 'new', previousUncertain: true });
  });

  it('treats a claim whose replica died as uncertain once its lease runs out', async () => {
    const [a, b] = pair({ leaseMs: 300 });
    await a.begin('k', 'fp');
    // A "dies": its lease is never extended again because its connection is gone.
    await redis.connections.at(-2)?.close();
    const waiting = await b.begin('k', 'fp');
    expect(waiting.state).toBe('in-flight');
    await new Promise((r) => setTimeout(r, 400));
    expect(await b.begin('k', 'fp')).toEqual({ state: 'new', previousUncertain: true });
  });

  it('keeps a live claim beyond its lease by extending it', async () => {
    const [a, b] = pair({ leaseMs: 300 });
    await a.begin('k', 'fp');
    await new Promise((r) => setTimeout(r, 700));
    expect(await b.begin('k', 'fp')).toMatchObject({ state: 'in-flight' });
    await a.finish('k', 'fp', { kind: 'final', result: 1 });
    expect(await b.begin('k', 'fp')).toMatchObject({ state: 'done', result: 1 });
  });

  it('stores a result above the byte budget as uncertain, so a repetition looks before writing', async () => {
    const [a, b] = pair({ maxValueBytes: 100 });
    await a.begin('k', 'fp');
    await a.finish('k', 'fp', { kind: 'final', result: { big: 'x'.repeat(200) } });
    expect(await b.begin('k', 'fp')).toEqual({ state: 'new', previousUncertain: true });
  });

  it('fails begin with a typed error while Redis is down, and never fails finish', async () => {
    const [a, b] = pair();
    await a.begin('held', 'fp');
    await redis.server.stop();
    try {
      await expect(b.begin('k', 'fp')).rejects.toBeInstanceOf(SharedStateUnavailableError);
      await expect(a.finish('held', 'fp', { kind: 'final', result: 1 })).resolves.toBeUndefined();
    } finally {
      await redis.server.start();
    }
  });
});
