import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type RedisServer, redisAvailable, startRedis } from '../redis.ts';
import { type Replicas, startReplicas } from './replicas.ts';

// Redis stopped under a running replica, then started again: /ready says so, reads go on, and
// everything recovers without restarting the process.

describe.runIf(redisAvailable)('when Redis goes away', () => {
  let redis: RedisServer;
  let stack: Replicas;
  beforeAll(async () => {
    redis = await startRedis();
    stack = await startReplicas({
      count: 1,
      env: { REDIS_URL: redis.url, REDIS_COMMAND_TIMEOUT_MS: '2000' },
    });
  });
  afterAll(async () => {
    await stack?.close();
    await redis?.close();
  });

  const ready = async () => {
    const response = await stack.replicas[0]?.app.fetch('http://facade.test/ready');
    return { status: response?.status, body: await response?.json() };
  };
  const read = () => stack.replicas[0]?.run('{ users(first: 2) { totalCount } }');
  const createTeam = (name: string, key: string) =>
    stack.replicas[0]?.run(
      'mutation ($name: String!) { createTeam(input: { name: $name }) { __typename } }',
      { name },
      { 'idempotency-key': key },
    );

  it('reports Redis in /ready, refuses keyed mutations but keeps reading while it is down, and recovers without a restart', async () => {
    expect(await ready()).toEqual({
      status: 200,
      body: { ready: true, checks: { upstream: true, redis: true } },
    });

    await redis.stop();
    expect(await ready()).toEqual({
      status: 503,
      body: { ready: false, checks: { upstream: true, redis: false } },
    });
    expect((await read())?.data).toEqual({ users: { totalCount: 520 } });
    expect(stack.replicas[0]?.shared.health()).toMatchObject({ state: 'down' });
    // A keyed mutation is not run unprotected: a typed, retryable error, and nothing written.
    stack.emulator.log.clear();
    const refused = await createTeam('While Redis is down', 'down-1');
    expect(refused?.data).toBeNull();
    expect(refused?.errors).toEqual([
      expect.objectContaining({
        message:
          'The shared state store is unreachable (idempotency key); nothing was written. Retry later.',
        extensions: { code: 'SHARED_STATE_UNAVAILABLE', retryable: true },
      }),
    ]);
    expect(stack.emulator.log.count('POST')).toBe(0);

    await redis.start();
    const until = Date.now() + 10_000;
    while ((await ready()).status !== 200 && Date.now() < until) {
      await new Promise((r) => setTimeout(r, 100));
    }
    expect(await ready()).toEqual({
      status: 200,
      body: { ready: true, checks: { upstream: true, redis: true } },
    });
    // The same call, repeated once Redis is back, runs once.
    expect((await createTeam('While Redis is down', 'down-1'))?.data).toEqual({
      createTeam: { __typename: 'CreateTeamPayload' },
    });
    expect((await createTeam('While Redis is down', 'down-1'))?.data).toEqual({
      createTeam: { __typename: 'CreateTeamPayload' },
    });
    expect(stack.emulator.log.count('POST', '/Groups')).toBe(1);
    expect(stack.replicas[0]?.logs.join('\n')).toMatch(
      /closed the connection[\s\S]*reachable again/,
    );
    // The logs name where Redis is, never a password.
    expect(stack.replicas[0]?.logs.join('\n')).toContain(redis.socket);
  });
});
