import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { type RedisServer, redisAvailable, startRedis } from '../redis.ts';
import { type Replicas, startReplicas } from './replicas.ts';

// Idempotency keys across replicas: two facades on one Redis and one emulator; the writes are
// counted in the emulator's log.

const CREATE_TEAM = `mutation ($input: CreateTeamInput!) {
  createTeam(input: $input) {
    __typename
    ... on CreateTeamPayload { replayed team { keeperId name } }
  }
}`;

type CreateTeamAnswer = {
  createTeam: { __typename: string; replayed: boolean; team: { keeperId: string; name: string } };
};

describe.runIf(redisAvailable)('idempotency keys across replicas', () => {
  let redis: RedisServer;
  let stack: Replicas;
  beforeAll(async () => {
    redis = await startRedis();
    stack = await startReplicas({ count: 2, env: { REDIS_URL: redis.url } });
  });
  afterEach(() => stack.emulator.log.clear());
  afterAll(async () => {
    await stack?.close();
    await redis?.close();
  });

  const posts = () => stack.emulator.log.count('POST', '/Groups');
  const create = (replica: number, name: string, key: string) =>
    stack.replicas[replica]?.run(CREATE_TEAM, { input: { name } }, { 'idempotency-key': key }) as
      | Promise<{ data?: CreateTeamAnswer; errors?: unknown[] }>
      | undefined;

  it('writes a keyed create once when a client retries it on the other replica', async () => {
    const first = await create(0, 'Replicated Sales', 'retry-1');
    const again = await create(1, 'Replicated Sales', 'retry-1');
    expect(first?.data?.createTeam).toMatchObject({
      __typename: 'CreateTeamPayload',
      replayed: false,
    });
    expect(again?.data?.createTeam).toMatchObject({
      __typename: 'CreateTeamPayload',
      replayed: true,
    });
    expect(again?.data?.createTeam.team.keeperId).toBe(first?.data?.createTeam.team.keeperId);
    expect(posts()).toBe(1);
  });

  it('writes each key once when the same keyed creates race on both replicas', async () => {
    const keys = Array.from({ length: 10 }, (_, i) => `race-${i}`);
    const answers = await Promise.all(
      keys.flatMap((key) => [create(0, `Raced ${key}`, key), create(1, `Raced ${key}`, key)]),
    );
    expect(posts()).toBe(10);
    for (let i = 0; i < keys.length; i++) {
      const [x, y] = [answers[2 * i]?.data?.createTeam, answers[2 * i + 1]?.data?.createTeam];
      expect(x?.team.keeperId).toBeDefined();
      expect(y?.team.keeperId).toBe(x?.team.keeperId);
      expect([x?.replayed, y?.replayed].sort()).toEqual([false, true]);
    }
    const names = stack.emulator.store.listGroups().map((g) => g.displayName);
    for (const key of keys) expect(names.filter((n) => n === `Raced ${key}`)).toHaveLength(1);
  });

  it('answers IdempotencyKeyReusedError on B for a key A used with another input', async () => {
    await create(0, 'Original', 'reuse-1');
    const other = await create(1, 'Something else', 'reuse-1');
    expect(other?.data?.createTeam.__typename).toBe('IdempotencyKeyReusedError');
    expect(posts()).toBe(1);
  });
});
