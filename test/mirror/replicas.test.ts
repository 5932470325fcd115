import { describe, expect, it } from 'vitest';
import type { Mirror } from '../../src/directory/mirror/mirror.ts';
import type { ChangeEvent } from '../../src/directory/mirror/snapshot.ts';
import { createMetrics } from '../../src/metrics.ts';
import { redisAvailable, useRedis } from '../redis.ts';
import { startMirrorFixture } from './fixture.ts';

// Replicas on one real redis-server: one lease holder reads the upstream, every replica applies
// the shared stream, so the upstream sees one refresh's worth of calls per interval in total and
// every replica's feed and subscriptions carry the same events in the same order. A replica that
// starts late catches up from the snapshot stored in Redis and the stream, not from the upstream.

const brief = (e: ChangeEvent) => [e.cursor, e.type, e.userId ?? e.groupId, e.source.kind];

async function collect(mirror: Mirror, count: number, signal: AbortSignal) {
  const events: ChangeEvent[] = [];
  for await (const event of mirror.subscribe({ signal })) {
    events.push(event);
    if (events.length === count) break;
  }
  return events;
}

describe.skipIf(!redisAvailable)('directory mirror on Redis (replicas)', () => {
  const redis = useRedis();

  it('makes one refresh worth of upstream calls for two replicas, and the same events on both', async () => {
    const f = await startMirrorFixture();
    const prefix = 'one:';
    const a = f.mirror({ redis: redis.connect(prefix) });
    const b = f.mirror({ redis: redis.connect(prefix) });
    const refreshCalls = ['GET /Groups', 'GET /Users', 'GET /Users'];

    // First interval: both tick; one reads the node, the other follows from Redis.
    await a.refresh();
    await b.refresh();
    expect(f.calls().sort()).toEqual(refreshCalls);
    const [sa, sb] = [await a.ready(), await b.ready()];
    expect(sb.users.size).toBe(sa.users.size);
    expect(f.calls()).toHaveLength(3);

    const controller = new AbortController();
    const onA = collect(a, 3, controller.signal);
    const onB = collect(b, 3, controller.signal);
    await new Promise((resolve) => setImmediate(resolve));

    // Second interval, after changes behind the facade's back: still one refresh's worth.
    const store = f.emulator.store;
    const [u1, u2] = store.listUsers().filter((u) => u.active);
    store.setActive(u1!.id, false);
    store.commitUser(u2!.id, { ...u2!, displayName: 'Renamed' });
    f.resetCalls();
    await Promise.all([b.refresh(), a.refresh()]);
    await Promise.all([a.sync(), b.sync()]);
    expect(f.calls().sort()).toEqual(refreshCalls);
    expect(sb.users.get(u1!.id)?.active).toBe(false);
    expect(sa.users.get(u2!.id)?.displayName).toBe('Renamed');

    // A write on one replica: at once there, and on the other's feed in the same place.
    const scimUser = await f.scim.users.get(u1!.id);
    await f.scim.users.patch(u1!.id, [{ op: 'replace', path: 'active', value: true }]);
    await b.apply({ kind: 'user', mutation: 'unlockUser', user: { ...scimUser, active: true } });
    expect(sb.users.get(u1!.id)?.active).toBe(true);
    await a.sync();
    expect(sa.users.get(u1!.id)?.active).toBe(true);

    const [eventsA, eventsB] = await Promise.all([onA, onB]);
    controller.abort();
    expect(eventsA.map(brief)).toEqual(eventsB.map(brief));
    expect(eventsA.map((e) => [e.type, e.source.kind])).toEqual([
      ['USER_LOCKED', 'UPSTREAM'],
      ['USER_UPDATED', 'UPSTREAM'],
      ['USER_UNLOCKED', 'THIS_SERVICE'],
    ]);
    // The feeds read the shared stream: the same pages on both.
    expect(await a.changesAfter(undefined, 10)).toEqual(await b.changesAfter(undefined, 10));
    expect(a.status().asOf).toEqual(b.status().asOf);

    // A replica that starts late: no upstream call, the same state and head.
    f.resetCalls();
    const c = f.mirror({ redis: redis.connect(prefix) });
    const sc = await c.ready();
    expect(f.calls()).toEqual([]);
    expect(sc.users.get(u1!.id)?.active).toBe(true);
    expect(sc.users.get(u2!.id)?.displayName).toBe('Renamed');
    expect(sc.users.size).toBe(sa.users.size);
    expect(c.status().head).toBe(a.status().head);
  });

  it('counts the lease holder refreshes as ok and the follower as skipped, and changes where appended', async () => {
    const f = await startMirrorFixture();
    const prefix = 'metrics:';
    const [ma, mb] = [
      createMetrics({ defaultMetrics: false }),
      createMetrics({ defaultMetrics: false }),
    ];
    const a = f.mirror({ redis: redis.connect(prefix), observers: [ma.observeMirror] });
    const b = f.mirror({ redis: redis.connect(prefix), observers: [mb.observeMirror] });
    ma.watchMirror(a);
    mb.watchMirror(b);
    const value = async (m: typeof ma, name: string, labels: Record<string, string>) =>
      (await m.registry.getSingleMetric(name)?.get())?.values.find((v) =>
        Object.entries(labels).every(([k, l]) => v.labels[k] === l),
      )?.value;

    await a.refresh();
    await b.refresh();
    const user = f.emulator.store.listUsers().find((u) => u.active);
    f.emulator.store.setActive(user?.id ?? '', false);
    await a.refresh();
    await b.refresh();
    await b.sync();
    expect(await value(ma, 'keeper_mirror_refreshes_total', { result: 'ok' })).toBe(2);
    expect(await value(mb, 'keeper_mirror_refreshes_total', { result: 'skipped' })).toBe(2);
    expect(await value(mb, 'keeper_mirror_refreshes_total', { result: 'ok' })).toBeUndefined();
    // The holder appended the lock it saw; the follower applied it, appending nothing.
    expect(await value(ma, 'keeper_mirror_changes_appended_total', { source: 'UPSTREAM' })).toBe(1);
    expect(
      await value(mb, 'keeper_mirror_changes_appended_total', { source: 'UPSTREAM' }),
    ).toBeUndefined();
    // Both snapshots are counted on their own replica.
    const users = f.emulator.store.userCount;
    expect(await value(ma, 'keeper_mirror_snapshot_objects', { kind: 'users' })).toBe(users);
    expect(await value(mb, 'keeper_mirror_snapshot_objects', { kind: 'users' })).toBe(users);
  });

  it('a replica that did not hold the lease takes over when the holder stops renewing it', async () => {
    const f = await startMirrorFixture();
    const prefix = 'two:';
    const a = f.mirror({ redis: redis.connect(prefix), refreshSeconds: 1 });
    const b = f.mirror({ redis: redis.connect(prefix), refreshSeconds: 1 });
    await a.refresh();
    await b.ready();
    f.resetCalls();
    await b.refresh();
    expect(f.calls()).toEqual([]);
    // The holder is gone: its lease runs out (the lease is kept 15 s at least; expire it here).
    const conn = redis.connect(prefix);
    await conn.run('expire lease', (client) => client.del(conn.key('mirror', 'lease')));
    f.emulator.store.setActive(f.emulator.store.listUsers()[0]!.id, false);
    expect(await b.refresh()).toMatchObject({ ok: true, changes: 1 });
    expect(f.calls().length).toBeGreaterThan(0);
    // The old holder now follows.
    f.resetCalls();
    expect(await a.refresh()).toEqual({ ok: true, follower: true });
    expect(f.calls()).toEqual([]);
  });
});
