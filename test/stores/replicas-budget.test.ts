import { describe, expect, it } from 'vitest';
import { redisAvailable } from '../redis.ts';
import { useReplicasOnRedis } from './replicas.ts';

// One upstream budget for all replicas: two facades on one Redis and one emulator. Timings are
// read from the emulator's log (when each request arrived), so what is checked is what the
// upstream saw.

const userQuery = (keeperId: string) => `{ user(keeperId: "${keeperId}") { userName } }`;

describe.runIf(redisAvailable)('upstream budget across replicas', () => {
  const replicas = useReplicasOnRedis();
  let prefix = 0;
  const start = (env: Record<string, string> = {}) =>
    replicas.start({ count: 2, env: { REDIS_KEY_PREFIX: `budget${++prefix}:`, ...env } });

  it('makes B wait out a 429 with Retry-After: 2 that A received', async () => {
    const stack = await start();
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
    const stack = await start({ UPSTREAM_RATE_LIMIT: '10' });
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
    // GCRA spaces the starts 100 ms apart (any 11 within 1 s at most); an arrival may lag its
    // start by the event loop and the loopback hop, which we allow up to 200 ms: no window of one
    // second holds more than 12 arrivals, and the 30 calls take at least 2.9 s - 0.2 s.
    const spans = times.slice(12).map((t, i) => t - (times[i] ?? 0));
    expect(Math.min(...spans)).toBeGreaterThan(1000);
    expect((times.at(-1) ?? 0) - (times[0] ?? 0)).toBeGreaterThan(2700);
    // Unlimited, the same 30 calls arrive within a few tens of milliseconds; with a budget per
    // replica (20/s together) 13 arrive within 0.6 s.
  });
});
