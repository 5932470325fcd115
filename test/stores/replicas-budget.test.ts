import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { type RedisServer, redisAvailable, startRedis } from '../redis.ts';
import { type Replicas, startReplicas } from './replicas.ts';

// One upstream budget for all replicas: two facades on one Redis and one emulator. Timings are
// read from the emulator's log (when each request arrived), so what is checked is what the
// upstream saw.

const userQuery = (keeperId: string) => `{ user(keeperId: "${keeperId}") { userName } }`;

describe.runIf(redisAvailable)('upstream budget across replicas', () => {
  let redis: RedisServer;
  let stack: Replicas | undefined;
  let prefix = 0;
  beforeAll(async () => {
    redis = await startRedis();
  });
  afterEach(async () => {
    await stack?.close();
    stack = undefined;
  });
  afterAll(async () => {
    await redis?.close();
  });

  const start = (env: Record<string, string> = {}) =>
    startReplicas({
      count: 2,
      env: { REDIS_URL: redis.url, REDIS_KEY_PREFIX: `budget${++prefix}:`, ...env },
    });

  it('makes B wait out a 429 with Retry-After: 2 that A received', async () => {
    stack = await start();
    const [a, b] = stack.replicas;
    if (!a || !b) throw new Error('two replicas');
    const ids = stack.emulator.store.listUsers().map((u) => u.id);
    stack.emulator.faults.enqueue({
      method: 'GET',
      path: /^\/Users\//,
      fault: 429,
      retryAfterSeconds: 2,
    });
    const refused = await a.run(userQuery(ids[0] ?? ''));
    expect(refused.errors?.[0]?.extensions).toMatchObject({ code: 'RATE_LIMITED', retryAfter: 2 });
    const answered = await b.run(userQuery(ids[1] ?? ''));
    expect(answered.errors).toBeUndefined();
    const [first, second] = stack.emulator.log.entries;
    expect([first?.status, second?.status]).toEqual([429, 200]);
    const gap = (second?.receivedAt ?? 0) - (first?.receivedAt ?? 0);
    // Redis keeps time in whole milliseconds; the pause is 2000 ms from when A reported it.
    expect(gap).toBeGreaterThan(1950);
    expect(stack.emulator.log.entries).toHaveLength(2);
  });

  it('holds 10 calls per second across both replicas', async () => {
    stack = await start({ UPSTREAM_RATE_LIMIT: '10' });
    const ids = stack.emulator.store.listUsers().map((u) => u.id);
    const perReplica = 15;
    const answers = await Promise.all(
      stack.replicas.flatMap((replica, r) =>
        Array.from({ length: perReplica }, (_, i) =>
          replica.run(userQuery(ids[r * perReplica + i] ?? '')),
        ),
      ),
    );
    expect(answers.every((a) => a.errors === undefined)).toBe(true);
    const times = stack.emulator.log.entries.map((e) => e.receivedAt).sort((x, y) => x - y);
    expect(times).toHaveLength(2 * perReplica);
    // GCRA grants starts 100 ms apart, so any 11 consecutive grants span at least 1 s. Arrivals
    // are grants plus the loopback hop, whose delay varies with the machine's load (a CI runner
    // under a parallel suite showed 60 ms): the bound allows 200 ms of that jitter and still
    // fails by far for an unlimited or a per-replica budget (30 calls in tens of ms, or 20/s).
    const spans = times.slice(10).map((t, i) => t - (times[i] ?? 0));
    expect(Math.min(...spans)).toBeGreaterThan(800);
    // Unlimited, the same 30 calls arrive within a few tens of milliseconds.
    expect((times.at(-1) ?? 0) - (times[0] ?? 0)).toBeGreaterThan(2800);
  });
});
