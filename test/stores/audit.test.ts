import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type AuditEvent, type AuditStore, createMemoryAuditStore } from '../../src/audit.ts';
import { createRedisConnection, type RedisConnection } from '../../src/stores/redis.ts';
import { createRedisAuditStore } from '../../src/stores/redis-audit.ts';
import { type RedisServer, redisAvailable, startRedis } from '../redis.ts';

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

describe.runIf(redisAvailable)('Redis Stream audit store', () => {
  let server: RedisServer;
  const connections: RedisConnection[] = [];
  const connect = () => {
    const c = createRedisConnection({
      url: server.url,
      keyPrefix: 'audit-test:',
      connectTimeoutMs: 5000,
      commandTimeoutMs: 2000,
      tlsCa: undefined,
    });
    connections.push(c);
    return c;
  };
  beforeAll(async () => {
    server = await startRedis();
  });
  afterAll(async () => {
    for (const c of connections) await c.close();
    await server?.close();
  });

  it('is one trail for two replicas, newest first, filtered and paged', async () => {
    await contract(
      createRedisAuditStore(connect(), { capacity: 1000 }),
      createRedisAuditStore(connect(), { capacity: 1000 }),
    );
  });
});
