import { describe, expect, it } from 'vitest';
import { describeRedisUrl, loadConfig } from '../../src/config.ts';
import { problems } from '../config-problems.ts';

describe('config: shared state and the upstream budget', () => {
  it('keeps everything in memory and unlimited without REDIS_URL and UPSTREAM_RATE_LIMIT', () => {
    const config = loadConfig({});
    expect(config.redis).toBeUndefined();
    expect(config.upstreamRateLimit).toBeUndefined();
  });

  it('takes redis://, rediss:// and unix:// URLs with production defaults', () => {
    expect(loadConfig({ REDIS_URL: 'redis://:s3cret@redis.internal:6379/2' }).redis).toEqual({
      url: 'redis://:s3cret@redis.internal:6379/2',
      keyPrefix: 'keeper-scim-graphql:',
      connectTimeoutMs: 5000,
      commandTimeoutMs: 2000,
      tlsCa: undefined,
    });
    expect(loadConfig({ REDIS_URL: 'unix:///run/redis/redis.sock' }).redis?.url).toBe(
      'unix:///run/redis/redis.sock',
    );
    const tls = loadConfig(
      {
        REDIS_URL: 'rediss://default:pw@cache.example:6380',
        REDIS_KEY_PREFIX: 'scim-eu:',
        REDIS_CONNECT_TIMEOUT_MS: '1000',
        REDIS_COMMAND_TIMEOUT_MS: '500',
        REDIS_TLS_CA_FILE: '/run/secrets/ca.pem',
        UPSTREAM_RATE_LIMIT: '2.5',
      },
      (path) => (path === '/run/secrets/ca.pem' ? 'PEM' : ''),
    );
    expect(tls.redis).toMatchObject({
      keyPrefix: 'scim-eu:',
      connectTimeoutMs: 1000,
      commandTimeoutMs: 500,
      tlsCa: 'PEM',
    });
    expect(tls.upstreamRateLimit).toBe(2.5);
  });

  it('refuses bad values in words a person can act on, never echoing the password', () => {
    const found = problems({
      REDIS_URL: 'http://:hunter2hunter2@redis:6379',
      UPSTREAM_RATE_LIMIT: '0',
      REDIS_COMMAND_TIMEOUT_MS: 'soon',
    });
    expect(found).toEqual([
      'UPSTREAM_RATE_LIMIT must be above 0 (unset it for no limit)',
      expect.stringContaining('REDIS_URL must be redis://'),
      'REDIS_COMMAND_TIMEOUT_MS must be a whole number',
    ]);
    expect(found.join('\n')).not.toContain('hunter2');
    expect(problems({ REDIS_KEY_PREFIX: 'x:' })).toEqual([
      'REDIS_KEY_PREFIX is set but REDIS_URL is not',
    ]);
    expect(
      problems({ REDIS_URL: 'redis://r:6379', REDIS_TLS_CA_FILE: '/ca.pem' }, () => 'PEM'),
    ).toEqual(['REDIS_TLS_CA_FILE is set but REDIS_URL is not a rediss:// (TLS) URL']);
  });

  it('describes where Redis is without user or password', () => {
    expect(describeRedisUrl('rediss://default:s3cret@cache.example:6380/1')).toBe(
      'rediss://cache.example:6380/1',
    );
    expect(describeRedisUrl('unix:///run/redis.sock')).toBe('unix:///run/redis.sock');
  });
});
