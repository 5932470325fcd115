import { type AuditEvent, type AuditStore, matches } from '../audit.ts';
import type { RedisConnection } from './redis.ts';

// The audit trail (src/audit.ts) on a Redis Stream, shared by the replicas: XADD appends with the
// stream trimmed to about `capacity` entries (MAXLEN ~), and the stream id is the event's id and
// cursor. Reading walks the stream newest first (XREVRANGE) in batches, filtering here, until a
// page and one more are found.

const BATCH = 200;

export function createRedisAuditStore(
  redis: RedisConnection,
  options: { capacity: number },
): AuditStore {
  const key = redis.key('audit');
  return {
    async append(event) {
      const id = await redis.run('audit append', (client) =>
        client.xadd(key, 'MAXLEN', '~', options.capacity, '*', 'event', JSON.stringify(event)),
      );
      return { id: String(id), ...event };
    },
    async list({ first, after, filter }) {
      const found: AuditEvent[] = [];
      let end = after ? `(${after}` : '+';
      for (;;) {
        const entries = await redis.run('audit read', (client) =>
          client.xrevrange(key, end, '-', 'COUNT', BATCH),
        );
        for (const [id, fields] of entries) {
          const event = { id, ...JSON.parse(fields[1] ?? '{}') } as AuditEvent;
          if (matches(event, filter)) found.push(event);
          if (found.length > first) return { events: found.slice(0, first), hasNextPage: true };
        }
        if (entries.length < BATCH) return { events: found, hasNextPage: false };
        end = `(${entries.at(-1)?.[0]}`;
      }
    },
  };
}
