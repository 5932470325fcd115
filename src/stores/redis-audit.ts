import {
  type AuditEvent,
  type AuditStore,
  type AuditStoreOptions,
  matches,
  retained,
  retentionCutoff,
} from '../audit.ts';
import type { RedisConnection } from './redis.ts';

// The audit trail (src/audit.ts) on a Redis Stream, shared by the replicas: XADD appends with the
// stream trimmed to about `capacity` entries (MAXLEN ~), and the stream id is the event's id and
// cursor. Reading walks the stream newest first (XREVRANGE) in batches, filtering here, until a
// page and one more are found. With AUDIT_RETENTION, each append also trims entries whose id (a
// millisecond timestamp) is older than the retention before the new entry's id (XTRIM MINID ~, approximate), and reading
// skips events older than it, so what the approximation leaves is never shown.

const BATCH = 200;

export function createRedisAuditStore(
  redis: RedisConnection,
  options: AuditStoreOptions,
): AuditStore {
  const key = redis.key('audit');
  return {
    async append(event) {
      const id = await redis.run('audit append', async (client) => {
        const added = await client.xadd(
          key,
          'MAXLEN',
          '~',
          options.capacity,
          '*',
          'event',
          JSON.stringify(event),
        );
        // Relative to the new entry's id (Redis's clock), so that a replica's clock skew cannot
        // trim fresh entries.
        if (options.retentionSeconds !== undefined && added) {
          const cutoff = Number(added.split('-')[0]) - options.retentionSeconds * 1000;
          await client.xtrim(key, 'MINID', '~', cutoff);
        }
        return added;
      });
      return { id: String(id), ...event };
    },
    async list({ first, after, filter }) {
      const found: AuditEvent[] = [];
      const cutoff = retentionCutoff(options);
      let end = after ? `(${after}` : '+';
      for (;;) {
        const entries = await redis.run('audit read', (client) =>
          client.xrevrange(key, end, '-', 'COUNT', BATCH),
        );
        for (const [id, fields] of entries) {
          const event = { id, ...JSON.parse(fields[1] ?? '{}') } as AuditEvent;
          if (retained(event, cutoff) && matches(event, filter)) found.push(event);
          if (found.length > first) return { events: found.slice(0, first), hasNextPage: true };
        }
        if (entries.length < BATCH) return { events: found, hasNextPage: false };
        end = `(${entries.at(-1)?.[0]}`;
      }
    },
  };
}
