import { describe, expect, it } from 'vitest';
import { type AuditEvent, type AuditStore, createMemoryAuditStore } from '../../src/audit.ts';
import { createRedisAuditStore } from '../../src/stores/redis-audit.ts';
import { redisAvailable, useRedis } from '../redis.ts';

// The audit store's contract, in memory and on a Redis Stream shared by two replicas: newest
// first, filtered, paged by cursor, bounded.

const event = (n: number, caller: string, objectIds: string[]): Omit<AuditEvent, 'id'> => ({
  time: new Date(Date.UTC(2026, 11, 1, 12, n)).toISOString(),
  caller: { kind: 'key', name: caller },
  requestId: `r${n}`,
  operation: n % 2 ? 'lockUser' : 'createTeam',
  input: {},
  omitted: [],
  upstream: [],
  outcome: 'LockUserPayload',
  objectIds,
  idempotencyKey: null,
});

async function contract(a: AuditStore, b: AuditStore) {
  for (let n = 1; n <= 7; n++)
    await (n % 2 ? a : b).append(event(n, n < 4 ? 'hr' : 'ops', [`U${n}`]));
  const all = await a.list({ first: 3, filter: {} });
  expect(all.events.map((e) => e.requestId)).toEqual(['r7', 'r6', 'r5']);
  expect(all.hasNextPage).toBe(true);
  const next = await b.list({ first: 3, after: all.events.at(-1)?.id, filter: {} });
  expect(next.events.map((e) => e.requestId)).toEqual(['r4', 'r3', 'r2']);
  const hr = await a.list({ first: 10, filter: { caller: 'hr', operation: 'lockUser' } });
  expect(hr).toMatchObject({ hasNextPage: false });
  expect(hr.events.map((e) => e.requestId)).toEqual(['r3', 'r1']);
  const one = await b.list({ first: 10, filter: { objectId: 'U5' } });
  expect(one.events.map((e) => e.requestId)).toEqual(['r5']);
  const since = await a.list({
    first: 10,
    filter: { since: new Date(Date.UTC(2026, 11, 1, 12, 6)) },
  });
  expect(since.events.map((e) => e.requestId)).toEqual(['r7', 'r6']);
}

describe('memory audit store', () => {
  it('lists newest first, filtered and paged, and keeps the newest `capacity`', async () => {
    const store = createMemoryAuditStore({ capacity: 100 });
    await contract(store, store);
    const small = createMemoryAuditStore({ capacity: 2 });
    for (let n = 1; n <= 5; n++) await small.append(event(n, 'hr', []));
    expect((await small.list({ first: 10, filter: {} })).events.map((e) => e.requestId)).toEqual([
      'r5',
      'r4',
    ]);
  });
});

// AUDIT_RETENTION: an event older than the retention (by its `time`) is never listed, and is
// dropped on the next append.
async function retention(make: (now: () => number) => AuditStore) {
  let clock = Date.now();
  const store = make(() => clock);
  const at = (n: number, ago: number) => ({
    ...event(n, 'hr', []),
    time: new Date(clock - ago * 1000).toISOString(),
  });
  await store.append(at(1, 120));
  await store.append(at(2, 30));
  await store.append(at(3, 0));
  const ids = async () =>
    (await store.list({ first: 10, filter: {} })).events.map((e) => e.requestId);
  expect(await ids()).toEqual(['r3', 'r2']);
  clock += 45_000;
  expect(await ids()).toEqual(['r3']);
  clock += 61_000;
  expect(await ids()).toEqual([]);
  await store.append(at(4, 0));
  expect(await ids()).toEqual(['r4']);
}

describe('memory audit store retention', () => {
  it('drops events older than AUDIT_RETENTION, on read and on insert', async () => {
    await retention((now) => createMemoryAuditStore({ capacity: 100, retentionSeconds: 60, now }));
  });
});

describe.runIf(redisAvailable)('Redis Stream audit store', () => {
  const redis = useRedis();
  const connect = () => redis.connect('audit-test:');

  it('is one trail for two replicas, newest first, filtered and paged', async () => {
    await contract(
      createRedisAuditStore(connect(), { capacity: 1000 }),
      createRedisAuditStore(connect(), { capacity: 1000 }),
    );
  });

  it('drops events older than AUDIT_RETENTION, on read and by XTRIM MINID', async () => {
    const connection = connect();
    const store = (now: () => number) =>
      createRedisAuditStore(connection, { capacity: 1000, retentionSeconds: 60, now });
    await retention(store);
    // The stream itself is trimmed by id (a ms timestamp): entries an hour old go on the next
    // append (XTRIM MINID ~ trims whole nodes of 100, so a few may linger until the next).
    const fresh = redis.connect('audit-trim:');
    const old = Date.now() - 3600_000;
    for (let n = 0; n < 300; n++)
      await fresh.run('old', (c) => c.xadd('audit-trim:audit', `${old}-${n}`, 'event', '{}'));
    await createRedisAuditStore(fresh, { capacity: 1000, retentionSeconds: 60 }).append(
      event(1, 'hr', []),
    );
    expect(await fresh.run('len', (c) => c.xlen('audit-trim:audit'))).toBeLessThanOrEqual(101);
  });
});
