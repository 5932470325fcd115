import type { Change, ChangeEvent } from './snapshot.ts';

// The change log: every change the mirror applied, in order, with a cursor that only grows.
// Cursors have the form of Redis Stream ids (`<ms>-<seq>`), so the log in memory and the stream
// on Redis (redis-log.ts) order them the same way. Retention is bounded (CHANGES_RETENTION
// events): the oldest go first, and the log remembers the cursor of the newest one it dropped
// (its floor). Asking for changes after a cursor below the floor, or after one this log never
// gave, is refused with ChangesResyncError: the caller re-reads the directory, it never gets a
// page with a silent gap.

export class ChangesResyncError extends Error {
  readonly code = 'RESYNC_REQUIRED';
  constructor(reason: string) {
    super(
      `The changes after this cursor are no longer all kept (${reason}); read the directory again and follow the changes from its current cursor`,
    );
    this.name = 'ChangesResyncError';
  }
}

export type ChangesPage = {
  /** Oldest first. */
  events: ChangeEvent[];
  hasNextPage: boolean;
  /** Where to continue from: the last event's cursor, else the cursor asked with (or the head). */
  endCursor: string;
};

export interface ChangeLog {
  /** At most `first` events after `after` (exclusive); without it, from the oldest kept. */
  after(after: string | undefined, first: number): Promise<ChangesPage>;
  /** The newest event's cursor (or, before any, the log's start): "now" in the feed. */
  head(): string;
}

/** [ms, seq] of a cursor, or undefined when it is not one. */
export function parseCursor(cursor: string): [number, number] | undefined {
  const m = /^(\d{1,15})-(\d{1,15})$/.exec(cursor);
  return m ? [Number(m[1]), Number(m[2])] : undefined;
}

export function compareCursors(a: string, b: string): number {
  const [am = 0, as = 0] = parseCursor(a) ?? [];
  const [bm = 0, bs = 0] = parseCursor(b) ?? [];
  return am - bm || as - bs;
}

/** Refuses what is not a cursor, and a cursor outside (floor, head]. */
export function checkCursor(cursor: string, floor: string, head: string): void {
  if (!parseCursor(cursor)) throw new ChangesResyncError('not a cursor of this change feed');
  if (compareCursors(cursor, floor) < 0) throw new ChangesResyncError('older than the retention');
  if (compareCursors(cursor, head) > 0) {
    throw new ChangesResyncError('not a cursor this change feed gave');
  }
}

export type MemoryChangeLog = ChangeLog & {
  /** Gives the changes their cursors and keeps them (dropping the oldest beyond the retention). */
  append(changes: readonly Change[]): ChangeEvent[];
  readonly floor: string;
};

export function createMemoryChangeLog(options: {
  /** Events kept at most. */
  retention: number;
  /** @default Date.now */
  now?: () => number;
}): MemoryChangeLog {
  const now = options.now ?? Date.now;
  let events: ChangeEvent[] = [];
  /** Index of the oldest kept event in `events` (dropped ones are cut off in batches). */
  let first = 0;
  let lastMs = now();
  let seq = 0;
  let floor = `${lastMs}-0`;
  let head = floor;
  return {
    get floor() {
      return floor;
    },
    head: () => head,
    append(changes) {
      const added = changes.map((change) => {
        const ms = now();
        if (ms > lastMs) {
          lastMs = ms;
          seq = 0;
        } else {
          seq += 1;
        }
        const event: ChangeEvent = { ...change, cursor: `${lastMs}-${seq}` };
        events.push(event);
        return event;
      });
      head = events.at(-1)?.cursor ?? head;
      const over = events.length - first - options.retention;
      if (over > 0) {
        first += over;
        floor = (events[first - 1] as ChangeEvent).cursor;
        if (first > options.retention) {
          events = events.slice(first);
          first = 0;
        }
      }
      return added;
    },
    async after(after, count) {
      let from = first;
      if (after !== undefined) {
        checkCursor(after, floor, head);
        let lo = first;
        let hi = events.length;
        while (lo < hi) {
          const mid = (lo + hi) >>> 1;
          if (compareCursors((events[mid] as ChangeEvent).cursor, after) <= 0) lo = mid + 1;
          else hi = mid;
        }
        from = lo;
      }
      const page = events.slice(from, from + count);
      return {
        events: page,
        hasNextPage: from + count < events.length,
        endCursor: page.at(-1)?.cursor ?? after ?? head,
      };
    },
  };
}

/** Fans the events this replica applies out to its subscribers. */
export class ChangeHub {
  readonly #listeners = new Set<(event: ChangeEvent) => void>();

  publish(events: readonly ChangeEvent[]): void {
    for (const event of events) for (const listener of this.#listeners) listener(event);
  }

  /**
   * The events after `after` (from the log), then every new one as it is applied; without
   * `after`, only new ones. Ends when `signal` aborts or the consumer returns. A subscriber that
   * falls more than `maxQueued` events behind gets ChangesResyncError instead of a gap.
   */
  async *subscribe(
    log: ChangeLog,
    options: { after?: string | undefined; signal?: AbortSignal; maxQueued?: number } = {},
  ): AsyncGenerator<ChangeEvent, void, undefined> {
    const maxQueued = options.maxQueued ?? 10_000;
    const queue: ChangeEvent[] = [];
    let overflow = false;
    let wake: (() => void) | undefined;
    const listener = (event: ChangeEvent) => {
      if (queue.length >= maxQueued) overflow = true;
      else queue.push(event);
      wake?.();
    };
    const onAbort = () => wake?.();
    this.#listeners.add(listener);
    options.signal?.addEventListener('abort', onAbort);
    try {
      let last = options.after ?? log.head();
      if (options.after !== undefined) {
        for (;;) {
          const page = await log.after(last, 500);
          for (const event of page.events) {
            last = event.cursor;
            yield event;
          }
          if (!page.hasNextPage) break;
        }
      }
      while (!options.signal?.aborted) {
        while (queue.length > 0) {
          const event = queue.shift() as ChangeEvent;
          // Already given by the replay.
          if (compareCursors(event.cursor, last) <= 0) continue;
          last = event.cursor;
          yield event;
        }
        if (overflow) throw new ChangesResyncError('this subscriber fell too far behind');
        if (options.signal?.aborted) return;
        await new Promise<void>((resolve) => {
          wake = resolve;
        });
        wake = undefined;
      }
    } finally {
      this.#listeners.delete(listener);
      options.signal?.removeEventListener('abort', onAbort);
    }
  }
}
