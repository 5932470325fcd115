import { describe, expect, it } from 'vitest';
import {
  ChangesResyncError,
  compareCursors,
  createMemoryChangeLog,
} from '../../src/directory/mirror/log.ts';
import type { Change, ChangeEvent } from '../../src/directory/mirror/snapshot.ts';
import { manualClock, startMirrorFixture } from './fixture.ts';

// The change feed: cursors that only grow, pages that resume, a bounded retention that refuses
// a cursor it can no longer serve (never a silent gap), and subscriptions as async iterators.

const change = (n: number): Change => ({
  type: 'USER_UPDATED',
  time: new Date(0).toISOString(),
  source: { kind: 'UPSTREAM' },
  userId: String(n),
  fields: ['displayName'],
});

describe('directory mirror: change log', () => {
  it('gives increasing cursors and pages that resume where they ended', async () => {
    const clock = manualClock();
    const log = createMemoryChangeLog({ retention: 100, now: clock.now });
    const start = log.head();
    log.append([change(1), change(2)]);
    clock.advance(1);
    log.append([change(3)]);
    // The clock going back does not make a cursor go back.
    clock.advance(-5);
    log.append([change(4), change(5)]);
    const all = await log.after(start, 100);
    const cursors = all.events.map((e) => e.cursor);
    expect(cursors).toHaveLength(5);
    for (let i = 1; i < cursors.length; i++) {
      expect(compareCursors(cursors[i - 1]!, cursors[i]!)).toBeLessThan(0);
    }
    const first = await log.after(start, 2);
    expect(first.events.map((e) => e.userId)).toEqual(['1', '2']);
    expect(first.hasNextPage).toBe(true);
    const rest = await log.after(first.endCursor, 10);
    expect(rest.events.map((e) => e.userId)).toEqual(['3', '4', '5']);
    expect(rest.hasNextPage).toBe(false);
    // At the head: nothing, and the same cursor to come back with.
    expect(await log.after(rest.endCursor, 10)).toEqual({
      events: [],
      hasNextPage: false,
      endCursor: rest.endCursor,
    });
  });

  it('keeps CHANGES_RETENTION events and refuses an older cursor, or one it never gave, with a resync error', async () => {
    const clock = manualClock();
    const log = createMemoryChangeLog({ retention: 3, now: clock.now });
    const start = log.head();
    const [e1, e2] = log.append([change(1), change(2)]);
    expect((await log.after(start, 10)).events).toHaveLength(2);
    log.append([change(3), change(4)]);
    // e1 was dropped: after `start` there is a gap now.
    await expect(log.after(start, 10)).rejects.toBeInstanceOf(ChangesResyncError);
    await expect(log.after(start, 10)).rejects.toMatchObject({ code: 'RESYNC_REQUIRED' });
    // After e1 everything is still there.
    expect((await log.after(e1!.cursor, 10)).events.map((e) => e.userId)).toEqual(['2', '3', '4']);
    expect((await log.after(e2!.cursor, 10)).events.map((e) => e.userId)).toEqual(['3', '4']);
    // Cursors from the future (another deployment, a restarted process) and garbage.
    await expect(log.after('99999999999999-0', 10)).rejects.toBeInstanceOf(ChangesResyncError);
    await expect(log.after('nonsense', 10)).rejects.toBeInstanceOf(ChangesResyncError);
  });

  it('delivers refreshes and writes to subscribers as they are applied, after a replay from a cursor', async () => {
    const f = await startMirrorFixture();
    const mirror = f.mirror();
    await mirror.ready();
    const store = f.emulator.store;
    const [a, b] = store.listUsers().filter((u) => u.active);
    const head = mirror.status().head;
    store.setActive(a!.id, false);
    await mirror.refresh();

    const controller = new AbortController();
    const live = mirror.subscribe({ signal: controller.signal });
    const replayed = mirror.subscribe({ after: head, signal: controller.signal });
    const got: { live: ChangeEvent[]; replayed: ChangeEvent[] } = { live: [], replayed: [] };
    const drain = async (name: 'live' | 'replayed', it: AsyncGenerator<ChangeEvent>) => {
      for await (const event of it) {
        got[name].push(event);
        if (got[name].length === (name === 'live' ? 2 : 3)) return;
      }
    };
    const done = Promise.all([drain('live', live), drain('replayed', replayed)]);
    // Let both iterators start before the changes.
    await new Promise((resolve) => setImmediate(resolve));

    store.setActive(b!.id, false);
    await mirror.refresh();
    const scimUser = await f.scim.users.get(a!.id);
    await f.scim.users.patch(a!.id, [{ op: 'replace', path: 'active', value: true }]);
    await mirror.apply({
      kind: 'user',
      mutation: 'unlockUser',
      user: { ...scimUser, active: true },
    });
    await done;
    controller.abort();

    const brief = (e: ChangeEvent) => [e.type, e.userId, e.source.kind];
    expect(got.live.map(brief)).toEqual([
      ['USER_LOCKED', b!.id, 'UPSTREAM'],
      ['USER_UNLOCKED', a!.id, 'THIS_SERVICE'],
    ]);
    expect(got.replayed.map(brief)).toEqual([
      ['USER_LOCKED', a!.id, 'UPSTREAM'],
      ['USER_LOCKED', b!.id, 'UPSTREAM'],
      ['USER_UNLOCKED', a!.id, 'THIS_SERVICE'],
    ]);
    expect(got.replayed.slice(1)).toEqual(got.live);
  });

  it('ends a subscription when its signal aborts', async () => {
    const f = await startMirrorFixture();
    const mirror = f.mirror();
    await mirror.ready();
    const controller = new AbortController();
    const it = mirror.subscribe({ signal: controller.signal });
    const next = it.next();
    controller.abort();
    expect(await next).toEqual({ done: true, value: undefined });
  });
});
