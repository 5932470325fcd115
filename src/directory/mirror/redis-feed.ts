import { promisify } from 'node:util';
import { gunzip, gzip } from 'node:zlib';
import type { RedisConnection } from '../../stores/redis.ts';
import { type ChangeLog, checkCursor } from './log.ts';
import type { Change, ChangeEvent, SnapshotJson } from './snapshot.ts';

// The mirror shared by replicas on Redis (keys under REDIS_KEY_PREFIX + `mirror:`):
// - `lease`: who refreshes from the upstream. Taken with SET NX PX and renewed by its holder;
//   only the holder reads the node, so N replicas make one refresh's worth of upstream calls.
// - `changes`: a Stream of every change (field `c`, the change as JSON), its ids the feed's
//   cursors. The holder appends a refresh's diff, any replica appends its own writes; every
//   replica applies the stream in order to its own snapshot, so all feeds are the same.
// - `floor`: the id of the newest entry trimmed away (the stream keeps CHANGES_RETENTION
//   entries): cursors below it get ChangesResyncError. Redis's own `max-deleted-entry-id` only
//   counts XDEL, not trimming, hence this key.
// - `status`: asOf and refreshedIn of the last refresh and the stream id they hold from.
// - `snapshot`: the holder's snapshot (gzipped JSON) with the stream id it includes, written
//   after a refresh that changed something, so that a replica starting late catches up from
//   Redis and the stream, not from the upstream.
// Appends are Lua scripts: a refresh's diff is appended only while its replica holds the lease
// and only if the stream has not moved since the diff was made (else it is made again), so a
// replica that lost the lease in a pause, or raced a write, never appends a stale diff.

const gzipAsync = promisify(gzip);
const gunzipAsync = promisify(gunzip);

/** Fencing and concurrency check, append, trim to the retention, record the floor and status. */
const APPEND = `
if ARGV[1] ~= '' and redis.call('GET', KEYS[3]) ~= ARGV[1] then return {'LOST'} end
local function head()
  local last = redis.call('XREVRANGE', KEYS[1], '+', '-', 'COUNT', 1)
  if last[1] then return last[1][1] end
  return redis.call('GET', KEYS[2]) or '0-0'
end
if ARGV[2] ~= '' then
  local now = head()
  if now ~= ARGV[2] then return {'MOVED', now} end
end
local ids = {}
for i = 6, #ARGV do ids[#ids + 1] = redis.call('XADD', KEYS[1], '*', 'c', ARGV[i]) end
local maxlen = tonumber(ARGV[3])
local len = redis.call('XLEN', KEYS[1])
if len > maxlen then
  local gone = redis.call('XRANGE', KEYS[1], '-', '+', 'COUNT', len - maxlen)
  redis.call('SET', KEYS[2], gone[#gone][1])
  redis.call('XTRIM', KEYS[1], 'MAXLEN', maxlen)
end
if ARGV[4] ~= '' then
  redis.call('HSET', KEYS[4], 'asOf', ARGV[4], 'refreshedIn', ARGV[5], 'head', head())
end
return {'OK', ids}
`;

/** The floor, the newest id, up to ARGV[2] entries from ARGV[1] (XRANGE start), and the status. */
const READ = `
local floor = redis.call('GET', KEYS[2]) or '0-0'
local last = redis.call('XREVRANGE', KEYS[1], '+', '-', 'COUNT', 1)
local head = floor
if last[1] then head = last[1][1] end
local entries = redis.call('XRANGE', KEYS[1], ARGV[1], '+', 'COUNT', ARGV[2])
return {floor, head, entries, redis.call('HGETALL', KEYS[3])}
`;

/** Takes the lease when free (SET NX PX), renews it when held by ARGV[1]; 1 when held. */
const LEASE = `
local owner = redis.call('GET', KEYS[1])
if owner == ARGV[1] then
  redis.call('PEXPIRE', KEYS[1], ARGV[2])
  return 1
end
if owner then return 0 end
redis.call('SET', KEYS[1], ARGV[1], 'NX', 'PX', ARGV[2])
return 1
`;

export type StreamStatus = { asOf: string; refreshedIn: number; head: string };

export type StreamRead = {
  floor: string;
  head: string;
  entries: ChangeEvent[];
  status: StreamStatus | undefined;
};

export type AppendResult =
  | { outcome: 'ok'; events: ChangeEvent[] }
  | { outcome: 'moved' }
  | { outcome: 'lost' };

export type RedisFeed = {
  /** Takes or renews the refresh lease; true while this replica holds it. */
  lease(): Promise<boolean>;
  /**
   * Appends changes. `fence`: only while holding the lease and only if the stream's newest id
   * is still `fence.head`; `status`: record asOf/refreshedIn of the refresh they come from.
   */
  append(
    changes: readonly Change[],
    options?: {
      fence?: { head: string };
      status?: { asOf: Date; refreshedIn: number };
    },
  ): Promise<AppendResult>;
  /** Up to `count` entries after `after` (exclusive; undefined = from the oldest kept). */
  read(after: string | undefined, count: number): Promise<StreamRead>;
  saveSnapshot(json: SnapshotJson, head: string): Promise<void>;
  loadSnapshot(): Promise<{ json: SnapshotJson; head: string } | undefined>;
  /** A feed over the stream that any replica serves alike; `head` is what this replica applied. */
  log(head: () => string): ChangeLog;
  /** Tells the other replicas that the stream grew. */
  notify(): Promise<void>;
  /** Calls `listener` when another replica says the stream grew. */
  onNotify(listener: () => void): Promise<() => void>;
};

export function createRedisFeed(
  redis: RedisConnection,
  options: { owner: string; leaseMs: number; retention: number },
): RedisFeed {
  const keys = {
    changes: redis.key('mirror', 'changes'),
    floor: redis.key('mirror', 'floor'),
    lease: redis.key('mirror', 'lease'),
    status: redis.key('mirror', 'status'),
    snapshot: redis.key('mirror', 'snapshot'),
  };
  const channel = 'mirror';

  const read: RedisFeed['read'] = async (after, count) => {
    const [floor, head, entries, status] = (await redis.script(
      'mirror read',
      READ,
      [keys.changes, keys.floor, keys.status],
      [after === undefined ? '-' : `(${after}`, count],
    )) as [string, string, [string, string[]][], string[]];
    const fields = Object.fromEntries(
      Array.from({ length: status.length / 2 }, (_, i) => [status[2 * i], status[2 * i + 1]]),
    );
    return {
      floor,
      head,
      entries: entries.map(([id, kv]) => ({
        ...(JSON.parse(kv[1] ?? '{}') as Change),
        cursor: id,
      })),
      status:
        fields['asOf'] && fields['head']
          ? {
              asOf: fields['asOf'],
              refreshedIn: Number(fields['refreshedIn'] ?? 0),
              head: fields['head'],
            }
          : undefined,
    };
  };

  return {
    async lease() {
      const held = await redis.script(
        'mirror lease',
        LEASE,
        [keys.lease],
        [options.owner, options.leaseMs],
      );
      return held === 1;
    },
    async append(changes, opts = {}) {
      const result = (await redis.script(
        'mirror append',
        APPEND,
        [keys.changes, keys.floor, keys.lease, keys.status],
        [
          opts.fence ? options.owner : '',
          opts.fence?.head ?? '',
          options.retention,
          opts.status?.asOf.toISOString() ?? '',
          opts.status?.refreshedIn ?? 0,
          ...changes.map((c) => JSON.stringify(c)),
        ],
      )) as [string, string[] | string | undefined];
      if (result[0] === 'LOST') return { outcome: 'lost' };
      if (result[0] === 'MOVED') return { outcome: 'moved' };
      const ids = result[1] as string[];
      return {
        outcome: 'ok',
        events: changes.map((c, i) => ({ ...c, cursor: ids[i] as string })),
      };
    },
    read,
    async saveSnapshot(json, head) {
      const body = await gzipAsync(Buffer.from(JSON.stringify({ head, json })));
      await redis.run('mirror snapshot save', (c) => c.set(keys.snapshot, body));
    },
    async loadSnapshot() {
      const body = await redis.run('mirror snapshot load', (c) => c.getBuffer(keys.snapshot));
      if (!body) return undefined;
      return JSON.parse((await gunzipAsync(body)).toString('utf8')) as {
        json: SnapshotJson;
        head: string;
      };
    },
    log(head) {
      return {
        head,
        async after(after, first) {
          const page = await read(after, first + 1);
          if (after !== undefined) checkCursor(after, page.floor, page.head);
          const events = page.entries.slice(0, first);
          return {
            events,
            hasNextPage: page.entries.length > first,
            endCursor: events.at(-1)?.cursor ?? after ?? page.head,
          };
        },
      };
    },
    async notify() {
      await redis.publish(channel, options.owner);
    },
    async onNotify(listener) {
      return redis.subscribe(channel, (from) => {
        if (from !== options.owner) listener();
      });
    },
  };
}
