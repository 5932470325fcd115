import { type AuditStore, createMemoryAuditStore } from '../audit.ts';
import type { CallerLimiter } from '../caller-auth.ts';
import type { Config } from '../config.ts';
import { createMemoryIdempotencyStore, type IdempotencyStore } from '../idempotency.ts';
import { createMemoryGroupLocks, type GroupLocks } from '../locks.ts';
import type { UpstreamBudget } from '../scim/budget.ts';
import { createMemoryBudget, createRedisBudget, createRedisCallerLimiter } from './budget.ts';
import { createRedisConnection, type RedisConnection, type RedisHealth } from './redis.ts';
import { createRedisAuditStore } from './redis-audit.ts';
import { createRedisIdempotencyStore } from './redis-idempotency.ts';
import { createRedisLocks } from './redis-locks.ts';

// Everything replicas must agree on, chosen in one place by REDIS_URL: without it each piece
// lives in this process's memory (one replica), with it on Redis (any number of replicas).

export type SharedState = {
  kind: 'memory' | 'redis';
  /** Rate and 429 pauses of upstream calls; give it to the SCIM client. */
  budget: UpstreamBudget;
  idempotency: IdempotencyStore;
  /** Write locks of the read-then-write mutations, one group at a time. */
  locks: GroupLocks;
  /** The audit trail's store (`auditEvents`): a memory ring, or a Redis Stream. */
  audit: AuditStore;
  /** CALLER_RATE_LIMIT on Redis (createCallerAuth's `limiter`); undefined = counted in memory. */
  callerLimiter: CallerLimiter | undefined;
  /** For `/ready` (AppDeps.readiness); empty in memory. */
  readiness: { name: string; check: () => Promise<boolean> }[];
  /** The Redis connection's state, for logs and `/ready`; undefined in memory. */
  health(): RedisHealth | undefined;
  /** The Redis connection (the directory mirror shares its stream on it); undefined in memory. */
  redis: RedisConnection | undefined;
  close(): Promise<void>;
};

export type SharedStateOptions = {
  /** Told when Redis is lost and back, never with credentials. */
  log?: (message: string) => void;
};

export function createSharedState(config: Config, options: SharedStateOptions = {}): SharedState {
  const budgetOptions = { ratePerSecond: config.upstreamRateLimit };
  const ttlMs = config.idempotencyTtlSeconds * 1000;
  if (!config.redis) {
    return {
      kind: 'memory',
      budget: createMemoryBudget(budgetOptions),
      idempotency: createMemoryIdempotencyStore({ ttlMs, maxBytes: config.idempotencyMaxBytes }),
      locks: createMemoryGroupLocks(),
      audit: createMemoryAuditStore({
        capacity: config.auditCapacity,
        retentionSeconds: config.auditRetentionSeconds,
      }),
      callerLimiter: undefined,
      readiness: [],
      health: () => undefined,
      redis: undefined,
      close: async () => {},
    };
  }
  const redis: RedisConnection = createRedisConnection(config.redis, { log: options.log });
  return {
    kind: 'redis',
    budget: createRedisBudget(redis, budgetOptions),
    idempotency: createRedisIdempotencyStore(redis, { ttlMs, log: options.log }),
    locks: createRedisLocks(redis),
    audit: createRedisAuditStore(redis, {
      capacity: config.auditCapacity,
      retentionSeconds: config.auditRetentionSeconds,
    }),
    callerLimiter:
      config.server.callerRateLimit === undefined
        ? undefined
        : createRedisCallerLimiter(redis, config.server.callerRateLimit),
    readiness: [{ name: 'redis', check: () => redis.isReady() }],
    health: () => redis.health(),
    redis,
    close: () => redis.close(),
  };
}
