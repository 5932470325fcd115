import { describe, expect, it } from 'vitest';
import { createRedisCallerLimiter } from '../../src/stores/budget.ts';
import { createRedisConnection } from '../../src/stores/redis.ts';
import { redisAvailable } from '../redis.ts';
import { useReplicasOnRedis } from './replicas.ts';

// CALLER_RATE_LIMIT with REDIS_URL: one count per caller for all replicas (the upstream budget's
// GCRA script, one key per caller), and each replica's own count while Redis is down.

const KEY = 'caller-rate-key-0123456789';
const OTHER = 'caller-rate-key-abcdefghij';
const bearer = (key: string) => ({ authorization: `Bearer ${key}` });
const query = '{ __typename }';

describe.runIf(redisAvailable)('caller rate limit across replicas', () => {
  const replicas = useReplicasOnRedis();

  it('counts one caller once across two replicas, and other callers apart', async () => {
    const stack = await replicas.start({
      count: 2,
      env: {
        REDIS_KEY_PREFIX: 'callers:',
        API_KEYS: `${KEY},${OTHER}`,
        CALLER_RATE_LIMIT: '3',
      },
    });
    const [a, b] = stack.replicas;
    if (!a || !b) throw new Error('two replicas');
    for (const replica of [a, b, a]) {
      expect((await replica.run(query, {}, bearer(KEY))).errors).toBeUndefined();
    }
    const refused = await b.run(query, {}, bearer(KEY));
    expect(refused.errors?.[0]?.extensions).toMatchObject({ code: 'RATE_LIMITED' });
    const retryAfter = refused.errors?.[0]?.extensions?.retryAfter as number;
    expect(retryAfter).toBeGreaterThanOrEqual(1);
    expect(retryAfter).toBeLessThanOrEqual(20);
    expect((await a.run(query, {}, bearer(KEY))).errors?.[0]?.extensions).toMatchObject({
      code: 'RATE_LIMITED',
    });
    expect((await b.run(query, {}, bearer(OTHER))).errors).toBeUndefined();
  });

  it('counts in memory while Redis cannot be reached', async () => {
    const down = createRedisConnection({
      url: 'redis://127.0.0.1:1',
      keyPrefix: 'down:',
      connectTimeoutMs: 200,
      commandTimeoutMs: 200,
      tlsCa: undefined,
    });
    try {
      const limiter = createRedisCallerLimiter(down, 2);
      expect(await limiter.take('key:x')).toBeUndefined();
      expect(await limiter.take('key:x')).toBeUndefined();
      expect(await limiter.take('key:x')).toBeGreaterThan(0);
      expect(limiter.fallbacks()).toBe(3);
    } finally {
      await down.close();
    }
  });
});
