import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { createEmulator, type Emulator } from '../../src/emulator/index.ts';
import type { UpstreamBudget } from '../../src/scim/budget.ts';
import type { ScimClient } from '../../src/scim/client.ts';
import { ScimRateLimitedError } from '../../src/scim/errors.ts';
import { createMemoryBudget, createRedisBudget } from '../../src/stores/budget.ts';
import { redisAvailable, useRedis } from '../redis.ts';
import { testScimClient } from '../test-config.ts';

// The upstream budget: a GCRA rate and the pause after a 429, first in memory with an injected
// clock, then in the SCIM client against the emulator, then on a real Redis shared by two
// connections (two replicas).

describe('memory budget', () => {
  it('spaces reservations one interval apart and refuses, without reserving, past maxWait', async () => {
    let t = 1000;
    const budget = createMemoryBudget({ ratePerSecond: 10, now: () => t });
    const waits = [];
    for (let i = 0; i < 4; i++) waits.push(await budget.reserve(1000));
    expect(waits).toEqual([{ waitMs: 0 }, { waitMs: 100 }, { waitMs: 200 }, { waitMs: 300 }]);
    // The next slot is 400 ms away: a caller with 250 ms left is refused and takes nothing.
    expect(await budget.reserve(250)).toEqual({ refusedForMs: 400 });
    expect(await budget.reserve(1000)).toEqual({ waitMs: 400 });
    t += 2000;
    expect(await budget.reserve(0)).toEqual({ waitMs: 0 });
  });

  it('holds every call until a pause after a 429 is over, rate or not', async () => {
    let t = 0;
    const budget = createMemoryBudget({ ratePerSecond: undefined, now: () => t });
    expect(await budget.reserve(0)).toEqual({ waitMs: 0 });
    expect(await budget.reserve(0)).toEqual({ waitMs: 0 });
    await budget.onRateLimited(2000);
    await budget.onRateLimited(500); // a shorter pause never shortens the longer one
    expect(await budget.reserve(5000)).toEqual({ waitMs: 2000 });
    expect(await budget.reserve(1000)).toEqual({ refusedForMs: 2000 });
    t = 2000;
    expect(await budget.reserve(0)).toEqual({ waitMs: 0 });
  });
});

describe('the SCIM client with a budget', () => {
  let emulator: Emulator;
  const clients: ScimClient[] = [];
  beforeAll(async () => {
    emulator = await createEmulator({ seed: 'demo' });
  });
  afterEach(async () => {
    await Promise.all(clients.splice(0).map((c) => c.close()));
    emulator.faults.clear();
    emulator.log.clear();
  });
  afterAll(() => emulator.close());

  function client(budget: UpstreamBudget, requestTimeoutMs = 15_000) {
    const sleeps: number[] = [];
    const scim = testScimClient(emulator, {
      requestTimeoutMs,
      budget,
      retry: {
        minDelayMs: 1,
        maxDelayMs: 20,
        sleep: async (ms) => {
          sleeps.push(ms);
        },
      },
    });
    clients.push(scim);
    return { scim, sleeps };
  }

  it('makes the next call wait out a Retry-After that another call received', async () => {
    const budget = createMemoryBudget({ ratePerSecond: undefined });
    const a = client(budget);
    const b = client(budget);
    emulator.faults.enqueue({ method: 'GET', path: '/Users', fault: 429, retryAfterSeconds: 2 });
    // 2 s is above the retry cap: A fails at once with the upstream's answer.
    await expect(a.scim.users.list({ count: 1 })).rejects.toBeInstanceOf(ScimRateLimitedError);
    await b.scim.users.list({ count: 1 });
    expect(b.sleeps).toHaveLength(1);
    expect(b.sleeps[0]).toBeGreaterThan(1900);
    expect(b.sleeps[0]).toBeLessThanOrEqual(2000);
    expect(emulator.log.count('GET', '/Users')).toBe(2);
  });

  it('fails at once as rate limited, sending nothing, when the pause outlasts the deadline', async () => {
    const budget = createMemoryBudget({ ratePerSecond: undefined });
    await budget.onRateLimited(30_000);
    const { scim, sleeps } = client(budget, 5_000);
    const error = await scim.users.list({ count: 1 }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ScimRateLimitedError);
    expect((error as ScimRateLimitedError).retryAfterSeconds).toBe(30);
    expect(sleeps).toEqual([]);
    expect(emulator.log.entries).toEqual([]);
  });

  it('refuses a slot beyond the deadline, and stops waiting at once when the caller aborts', async () => {
    const budget = createMemoryBudget({ ratePerSecond: 1 });
    const scim = testScimClient(emulator, {
      requestTimeoutMs: 300,
      budget,
    });
    clients.push(scim);
    await scim.users.list({ count: 1 });
    // The next slot is 1 s away, beyond the 300 ms deadline: refused without waiting.
    await expect(scim.users.list({ count: 1 })).rejects.toBeInstanceOf(ScimRateLimitedError);
    const slow = testScimClient(emulator, {
      requestTimeoutMs: 5_000,
      budget,
    });
    clients.push(slow);
    const controller = new AbortController();
    const waiting = slow.users.list({ count: 1 }, { signal: controller.signal });
    setTimeout(() => controller.abort(new Error('caller left')), 50);
    await expect(waiting).rejects.toThrow('caller left');
    expect(emulator.log.count('GET', '/Users')).toBe(1);
  });
});

describe.runIf(redisAvailable)('Redis budget shared by two replicas', () => {
  const redis = useRedis();
  const connect = () => redis.connect(`budget-${redis.connections.length}-test:`);

  it('spaces the reservations of both replicas on one timeline', async () => {
    const shared = { ...connect(), key: (...p: string[]) => `rate-test:${p.join(':')}` };
    const other = { ...connect(), key: shared.key };
    const a = createRedisBudget(shared, { ratePerSecond: 10 });
    const b = createRedisBudget(other, { ratePerSecond: 10 });
    const waits: number[] = [];
    const sent: number[] = [];
    const answered: number[] = [];
    for (let i = 0; i < 10; i++) {
      sent.push(performance.now());
      const d = await (i % 2 === 0 ? a : b).reserve(10_000);
      answered.push(performance.now());
      if (!('waitMs' in d)) throw new Error('refused');
      waits.push(d.waitMs);
    }
    // Each slot starts exactly 100 ms after the previous one, whichever replica took it, so two
    // consecutive waits differ by 100 ms less the Redis time between the two reservations,
    // which is at most the local time from sending the first to hearing the second (+1 ms, as
    // Redis counts whole milliseconds).
    for (let i = 1; i < waits.length; i++) {
      const diff = (waits[i] ?? 0) - (waits[i - 1] ?? 0);
      const elapsed = (answered[i] ?? 0) - (sent[i - 1] ?? 0);
      expect(diff).toBeLessThanOrEqual(101);
      expect(diff).toBeGreaterThanOrEqual(100 - elapsed - 1);
    }
    const refused = await b.reserve(0);
    expect('refusedForMs' in refused).toBe(true);
    expect(a.fallbacks() + b.fallbacks()).toBe(0);
  });

  it('makes every replica honour a pause one of them was told', async () => {
    const key = (...p: string[]) => `pause-test:${p.join(':')}`;
    const a = createRedisBudget({ ...connect(), key }, { ratePerSecond: undefined });
    const b = createRedisBudget({ ...connect(), key }, { ratePerSecond: undefined });
    expect(await b.reserve(0)).toEqual({ waitMs: 0 });
    await a.onRateLimited(2000);
    const d = await b.reserve(5000);
    expect('waitMs' in d && d.waitMs > 1900 && d.waitMs <= 2000).toBe(true);
    expect(await b.reserve(1000)).toMatchObject({ refusedForMs: expect.any(Number) });
  });

  it('keeps to the local budget while Redis is down, and shares again once it is back', async () => {
    const key = (...p: string[]) => `down-test:${p.join(':')}`;
    const conn = connect();
    const budget = createRedisBudget({ ...conn, key }, { ratePerSecond: 1000 });
    expect(await budget.reserve(1000)).toMatchObject({ waitMs: expect.any(Number) });
    await redis.server.stop();
    expect(await budget.reserve(1000)).toMatchObject({ waitMs: expect.any(Number) });
    expect(budget.fallbacks()).toBe(1);
    expect(conn.health().state).toBe('down');
    await redis.server.start();
    await waitFor(async () => conn.isReady());
    expect(conn.health().state).toBe('ready');
    await budget.reserve(1000);
    expect(budget.fallbacks()).toBe(1);
  });
});

async function waitFor(condition: () => Promise<boolean>, ms = 10_000): Promise<void> {
  const until = Date.now() + ms;
  while (!(await condition())) {
    if (Date.now() > until) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 50));
  }
}
