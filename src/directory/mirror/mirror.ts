import { randomUUID } from 'node:crypto';
import { performance } from 'node:perf_hooks';
import type { CallOptions, ScimClient } from '../../scim/client.ts';
import type { RedisConnection } from '../../stores/redis.ts';
import { applyWrite, diffSnapshots, type MirrorWrite, touchKey } from './change.ts';
import {
  ChangeHub,
  type ChangeLog,
  compareCursors,
  createMemoryChangeLog,
  type MemoryChangeLog,
} from './log.ts';
import { readNode } from './read.ts';
import { createRedisFeed, type RedisFeed, type StreamRead } from './redis-feed.ts';
import { type Change, type ChangeEvent, Snapshot } from './snapshot.ts';

// The directory mirror: one snapshot of the node per process, shared by every request, built by
// a full read and refreshed in the background every MIRROR_REFRESH_SECONDS. Refreshes are
// single-flight (a caller asking during one gets that one), and nobody waits for a refresh
// unless no snapshot exists yet; a failed refresh keeps the snapshot it had and records why.
// Each refresh is diffed against the snapshot into UPSTREAM changes, each write of this service
// (`apply`) into THIS_SERVICE changes at once; both go through the change log, which feeds
// `changesAfter` and subscriptions. With Redis (redis-feed.ts) the log is a shared Stream, one
// replica (the lease holder) reads the upstream, and every replica applies the stream.

export class MirrorUnavailableError extends Error {
  readonly code = 'UPSTREAM_UNAVAILABLE';
  constructor(cause: unknown) {
    super('The directory mirror has no snapshot yet: its first read of the node failed', {
      cause,
    });
    this.name = 'MirrorUnavailableError';
  }
}

export type MirrorOptions = {
  scim: ScimClient;
  rolePrefix: string;
  /**
   * Seconds between background refreshes (MIRROR_REFRESH_SECONDS).
   * @default 60
   */
  refreshSeconds?: number;
  /**
   * Changes kept for `changesAfter` (CHANGES_RETENTION).
   * @default 100000
   */
  retention?: number;
  /** @default 500 */
  pageSize?: number;
  /**
   * Pages of the full read in flight at once.
   * @default 16
   */
  concurrency?: number;
  /** @default 'auto' */
  groupMembers?: 'auto' | 'include' | 'omit';
  /** Share the mirror with other replicas (see redis-feed.ts). */
  redis?: RedisConnection | undefined;
  /** Per-call options of the upstream reads (e.g. stats). */
  call?: CallOptions;
  /** @default Date.now */
  now?: () => number;
  /** Told of failed refreshes and failed shared appends (never with secrets). */
  onError?: (what: string, error: unknown) => void;
  /** Watch the refreshes and the changes appended (metrics, traces). @default none */
  observers?: readonly MirrorObserver[];
};

/** How a refresh ended: `skipped` when another replica holds the lease (this one followed it). */
export type RefreshResult = 'ok' | 'failed' | 'skipped';

/** Told of each refresh (when it starts and how it ended) and of each change this replica appends. */
export type MirrorObserver = {
  /**
   * A refresh starts. The answer may add per-call options to its upstream reads (a trace span's
   * attempt observer) and is told how the refresh ended and how long it took.
   */
  refresh?(): {
    call?: CallOptions;
    end(result: RefreshResult, seconds: number, error?: unknown): void;
  };
  /** Changes appended to the change feed by this replica (a refresh's, or this service's writes). */
  appended?(changes: readonly Change[]): void;
};

export type RefreshOutcome =
  /** `changes`: how many this refresh found (0 for the first read). */
  | { ok: true; changes: number; asOf: Date }
  /** Another replica holds the lease: this one applied the shared stream instead. */
  | { ok: true; follower: true }
  | { ok: false; error: unknown };

export type MirrorStatus = {
  /** When the upstream read behind the snapshot started; undefined before the first. */
  asOf: Date | undefined;
  /** How long that read took (ms). */
  refreshedIn: number | undefined;
  refreshing: boolean;
  /** The last refresh's failure, until one succeeds. */
  lastError: { message: string; at: Date } | undefined;
  /** The change feed's newest cursor on this replica. */
  head: string;
};

export type Mirror = {
  /** The snapshot, if one exists (never waits). */
  current(): Snapshot | undefined;
  /** The snapshot; waits only when none exists yet (for the first read, or Redis). */
  ready(signal?: AbortSignal): Promise<Snapshot>;
  /** Refreshes now, or joins the refresh under way. */
  refresh(): Promise<RefreshOutcome>;
  /**
   * Applies one of this service's successful writes: the snapshot changes before this returns
   * its promise (read-your-writes); the promise resolves with the THIS_SERVICE events once they
   * are in the log. Without a snapshot it does nothing (the first read will see the write).
   */
  apply(write: MirrorWrite): Promise<ChangeEvent[]>;
  /** Up to `first` changes after `after`; ChangesResyncError when the log no longer has them. */
  changesAfter(after: string | undefined, first: number): ReturnType<ChangeLog['after']>;
  /** Changes after `after` (or from now), then each new one as it is applied. */
  subscribe(options?: {
    after?: string | undefined;
    signal?: AbortSignal;
  }): AsyncGenerator<ChangeEvent, void, undefined>;
  status(): MirrorStatus;
  /** With Redis: applies what other replicas appended. */
  sync(): Promise<void>;
  /** Starts the background refreshes (and, with Redis, listens for other replicas' appends). */
  start(): void;
  close(): Promise<void>;
};

/** How soon a follower without a snapshot looks for its leader's again. */
const FOLLOWER_WAIT_MS = 500;

/** Above this many changes at once, the sorted orders are rebuilt rather than kept up to date. */
const BULK = 512;

export function createMirror(options: MirrorOptions): Mirror {
  const now = options.now ?? Date.now;
  const refreshMs = (options.refreshSeconds ?? 60) * 1000;
  const retention = options.retention ?? 100_000;
  const onError = options.onError ?? (() => {});
  const hub = new ChangeHub();
  const feed: RedisFeed | undefined = options.redis
    ? createRedisFeed(options.redis, {
        owner: randomUUID(),
        // Longer than an interval plus a slow read, so a live holder keeps it between ticks.
        leaseMs: Math.max(2 * refreshMs, 15_000),
        retention,
      })
    : undefined;
  const memoryLog: MemoryChangeLog | undefined = feed
    ? undefined
    : createMemoryChangeLog({ retention, now });
  /** With Redis: the newest stream id applied to the snapshot. */
  let applied = '0-0';
  const log: ChangeLog = feed ? feed.log(() => applied) : (memoryLog as MemoryChangeLog);

  let snapshot: Snapshot | undefined;
  let lastError: MirrorStatus['lastError'];
  let refreshing: Promise<RefreshOutcome> | undefined;
  let starting: Promise<Snapshot> | undefined;
  /** Key (change.ts touchKey) → when a write of this service touched it (`now()` clock). */
  const touched = new Map<string, number>();
  let timer: NodeJS.Timeout | undefined;
  let unsubscribe: (() => void) | undefined;
  let closed = false;

  const applyAll = (target: Snapshot, changes: readonly Change[]) => {
    if (changes.length > BULK) target.dropOrders();
    for (const change of changes) target.apply(change);
  };

  const touch = (change: Change, at: number) => {
    if (change.type.startsWith('USER_') && change.userId)
      touched.set(touchKey.user(change.userId), at);
    else if (change.type.startsWith('MEMBER_') && change.groupId && change.userId) {
      touched.set(touchKey.member(change.groupId, change.userId), at);
    } else if (change.groupId) touched.set(touchKey.group(change.groupId), at);
  };

  // ---- Redis: applying the shared stream --------------------------------------------------

  let syncing: Promise<void> | undefined;
  let syncAgain = false;

  /** Applies entries from the stream up to its head (one pass; see `sync`). */
  async function syncPass(shared: RedisFeed): Promise<void> {
    for (;;) {
      const page: StreamRead = await shared.read(applied, 1000);
      if (!snapshot) return;
      if (compareCursors(applied, page.floor) < 0) {
        // This replica fell behind the retention: its snapshot has a gap; start again from the
        // stored snapshot.
        snapshot = undefined;
        await bootstrap(shared);
        return;
      }
      applyAll(snapshot, page.entries);
      const at = now();
      for (const event of page.entries) if (event.source.kind === 'THIS_SERVICE') touch(event, at);
      if (page.entries.length > 0) applied = page.entries.at(-1)?.cursor ?? applied;
      hub.publish(page.entries);
      const status = page.status;
      if (status && compareCursors(status.head, applied) <= 0) {
        const asOf = new Date(status.asOf);
        if (asOf > snapshot.asOf) {
          snapshot.asOf = asOf;
          snapshot.refreshedIn = status.refreshedIn;
        }
      }
      if (page.entries.length < 1000) return;
    }
  }

  /** Single-flight: a sync asked for during one runs once more after it. */
  async function sync(): Promise<void> {
    if (!feed) return;
    if (syncing) {
      syncAgain = true;
      return syncing;
    }
    syncing = (async () => {
      try {
        do {
          syncAgain = false;
          await syncPass(feed);
        } while (syncAgain);
      } finally {
        syncing = undefined;
      }
    })();
    return syncing;
  }

  /** A replica without a snapshot: the stored one and the stream after it, if Redis has them. */
  async function bootstrap(shared: RedisFeed): Promise<boolean> {
    const stored = await shared.loadSnapshot();
    if (!stored) return false;
    const page = await shared.read(stored.head, 1);
    if (compareCursors(stored.head, page.floor) < 0) return false;
    snapshot = Snapshot.fromJSON(stored.json);
    applied = stored.head;
    await sync();
    return true;
  }

  // ---- refreshing -------------------------------------------------------------------------

  const appended = (changes: readonly Change[]) => {
    if (changes.length === 0) return;
    for (const observer of options.observers ?? []) observer.appended?.(changes);
  };

  async function refreshOnce(call: CallOptions | undefined): Promise<RefreshOutcome> {
    if (feed && !(await feed.lease())) {
      if (!snapshot) await bootstrap(feed);
      else await sync();
      return { ok: true, follower: true };
    }
    if (feed && !snapshot && (await bootstrap(feed))) {
      // The holder starts from the stored snapshot too, then refreshes it.
    }
    const readStart = now();
    const fresh = await readNode(options.scim, {
      rolePrefix: options.rolePrefix,
      pageSize: options.pageSize ?? 500,
      concurrency: options.concurrency ?? 16,
      expectedUsers: snapshot?.users.size,
      groupMembers: options.groupMembers ?? 'auto',
      ...(options.call || call ? { call: { ...options.call, ...call } } : {}),
    });
    fresh.asOf = new Date(readStart);
    const base = { time: fresh.asOf.toISOString(), source: { kind: 'UPSTREAM' } as const };
    const skip = (key: string) => (touched.get(key) ?? -Infinity) >= readStart;
    let found = 0;

    if (!feed) {
      if (!snapshot) {
        snapshot = fresh;
      } else {
        const changes = diffSnapshots(snapshot, fresh, base, skip);
        applyAll(snapshot, changes);
        hub.publish((memoryLog as MemoryChangeLog).append(changes));
        appended(changes);
        snapshot.asOf = fresh.asOf;
        snapshot.refreshedIn = fresh.refreshedIn;
        found = changes.length;
      }
    } else if (!snapshot) {
      // The first replica to read the node: its read is the shared starting point.
      const page = await feed.read(undefined, 0);
      snapshot = fresh;
      applied = page.head;
      const first = await feed.append([], {
        fence: { head: page.head },
        status: { asOf: fresh.asOf, refreshedIn: fresh.refreshedIn },
      });
      if (first.outcome !== 'ok') {
        // Lost the lease or raced a write: follow the others instead of sharing this read.
        snapshot = undefined;
        await bootstrap(feed);
        return { ok: true, follower: true };
      }
      await feed.saveSnapshot(fresh.toJSON(), page.head);
    } else {
      for (let attempt = 1; ; attempt++) {
        await sync();
        const current = snapshot as Snapshot;
        const changes = diffSnapshots(current, fresh, base, skip);
        const shared = await feed.append(changes, {
          fence: { head: applied },
          status: { asOf: fresh.asOf, refreshedIn: fresh.refreshedIn },
        });
        if (shared.outcome === 'lost') return { ok: true, follower: true };
        if (shared.outcome === 'ok') {
          found = changes.length;
          appended(changes);
          await sync();
          if (found > 0) {
            await feed.saveSnapshot((snapshot as Snapshot).toJSON(), applied);
            await feed.notify().catch(() => {});
          }
          break;
        }
        // The stream moved (another replica's write) between the diff and the append.
        if (attempt >= 5) throw new Error('the shared change stream kept moving during a refresh');
      }
    }
    for (const [key, at] of touched) if (at < readStart) touched.delete(key);
    lastError = undefined;
    return { ok: true, changes: found, asOf: fresh.asOf };
  }

  function refresh(): Promise<RefreshOutcome> {
    if (refreshing) return refreshing;
    const started = performance.now();
    const watching = (options.observers ?? []).flatMap((o) => (o.refresh ? [o.refresh()] : []));
    // Only one observer (tracing) adds call options.
    const call = watching.find((w) => w.call)?.call;
    refreshing = refreshOnce(call)
      .then((outcome) => {
        const result: RefreshResult = !outcome.ok
          ? 'failed'
          : 'follower' in outcome
            ? 'skipped'
            : 'ok';
        const seconds = (performance.now() - started) / 1000;
        for (const w of watching) w.end(result, seconds, outcome.ok ? undefined : outcome.error);
        return outcome;
      })
      .catch((error: unknown): RefreshOutcome => {
        const seconds = (performance.now() - started) / 1000;
        for (const w of watching) w.end('failed', seconds, error);
        lastError = {
          message: error instanceof Error ? error.message : String(error),
          at: new Date(now()),
        };
        onError('mirror refresh', error);
        return { ok: false, error };
      })
      .finally(() => {
        refreshing = undefined;
      });
    return refreshing;
  }

  async function ready(signal?: AbortSignal): Promise<Snapshot> {
    if (snapshot) return snapshot;
    starting ??= (async () => {
      try {
        for (;;) {
          const outcome = await refresh();
          if (snapshot) return snapshot;
          if (!outcome.ok) throw new MirrorUnavailableError(outcome.error);
          // A follower whose leader has not stored a snapshot yet: wait for it.
          await new Promise((resolve) => setTimeout(resolve, 200));
          signal?.throwIfAborted();
        }
      } finally {
        starting = undefined;
      }
    })();
    return starting;
  }

  async function apply(write: MirrorWrite): Promise<ChangeEvent[]> {
    if (!snapshot) return [];
    const at = now();
    const { changes, touched: keys } = applyWrite(snapshot, write, new Date(at).toISOString());
    for (const key of keys) touched.set(key, at);
    if (changes.length === 0) return [];
    if (!feed) {
      const events = (memoryLog as MemoryChangeLog).append(changes);
      hub.publish(events);
      appended(changes);
      return events;
    }
    try {
      const shared = await feed.append(changes);
      if (shared.outcome === 'ok') appended(changes);
      await sync();
      await feed.notify().catch(() => {});
      return shared.outcome === 'ok' ? shared.events : [];
    } catch (error) {
      // The write is in this replica's snapshot; the holder's next refresh shares it as an
      // UPSTREAM change.
      onError('mirror append', error);
      return [];
    }
  }

  return {
    current: () => snapshot,
    ready,
    refresh,
    apply,
    changesAfter: (after, first) => log.after(after, first),
    subscribe: (opts = {}) => hub.subscribe(log, opts),
    status: () => ({
      asOf: snapshot?.asOf,
      refreshedIn: snapshot?.refreshedIn,
      refreshing: refreshing !== undefined,
      lastError,
      head: log.head(),
    }),
    sync,
    start() {
      if (timer || closed) return;
      const tick = () => {
        refresh()
          // A follower whose leader has stored no snapshot yet has nothing to serve (and /ready
          // says so): it looks again soon rather than an interval later.
          .then(
            (outcome) => outcome.ok && !snapshot,
            () => false,
          )
          .then((waiting) => {
            if (closed) return;
            timer = setTimeout(tick, waiting ? Math.min(FOLLOWER_WAIT_MS, refreshMs) : refreshMs);
            timer.unref();
          });
      };
      tick();
      feed
        ?.onNotify(() => {
          sync().catch((error: unknown) => onError('mirror sync', error));
        })
        .then((off) => {
          unsubscribe = off;
        })
        .catch((error: unknown) => onError('mirror subscribe', error));
    },
    async close() {
      closed = true;
      clearTimeout(timer);
      unsubscribe?.();
      await refreshing;
    },
  };
}
