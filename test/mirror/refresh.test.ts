import { describe, expect, it } from 'vitest';
import type { Change } from '../../src/directory/mirror/snapshot.ts';
import { manualClock, startMirrorFixture } from './fixture.ts';

// One snapshot per node, built by a full read with parallel pages and refreshed single-flight;
// the store is changed behind the facade's back (as another Keeper admin would) and a refresh
// turns the difference into UPSTREAM changes.

const brief = (c: Change) => ({
  type: c.type,
  source: c.source.kind,
  ...(c.userId ? { userId: c.userId } : {}),
  ...(c.groupId ? { groupId: c.groupId } : {}),
  ...(c.groupKind ? { groupKind: c.groupKind } : {}),
  ...(c.fields ? { fields: c.fields } : {}),
});

describe('directory mirror: snapshot and refresh', () => {
  it('builds one snapshot of users, teams, roles and memberships both ways from one full read', async () => {
    const f = await startMirrorFixture();
    const mirror = f.mirror({ pageSize: 100, concurrency: 4 });
    const snapshot = await mirror.ready();
    const store = f.emulator.store;

    // 520 users in pages of 100 (6 GETs, the last 5 in parallel after the first), one Groups read
    // without members, since User.groups carries the memberships.
    expect(f.calls().filter((c) => c === 'GET /Users')).toHaveLength(6);
    expect(f.calls().filter((c) => c === 'GET /Groups')).toHaveLength(1);
    expect(f.emulator.log.entries.find((e) => e.path.startsWith('/Groups'))?.path).toContain(
      'excludedAttributes=members',
    );

    expect(snapshot.users.size).toBe(store.userCount);
    const teams = [...snapshot.groups.values()].filter((g) => g.kind === 'Team');
    const roles = [...snapshot.groups.values()].filter((g) => g.kind === 'Role');
    expect(teams.map((t) => t.id).sort()).toEqual(
      store
        .listTeams()
        .map((t) => t.id)
        .sort(),
    );
    expect(roles.map((r) => r.name).sort()).toEqual(
      store
        .listRoles()
        .map((r) => r.displayName.slice('ROLE_'.length))
        .sort(),
    );
    for (const g of snapshot.groups.values()) {
      expect([...g.members].sort()).toEqual(store.membersOf(g.id).sort());
    }
    for (const u of snapshot.users.values()) {
      expect([...u.groups].sort()).toEqual(store.groupsOf(u.id).sort());
      expect(u.active).toBe(store.getUser(u.id)?.active);
    }
    expect(mirror.status()).toMatchObject({ refreshing: false, lastError: undefined });
    expect(mirror.status().refreshedIn).toBeGreaterThanOrEqual(0);
  });

  it('is single-flight: concurrent refreshes share one read, and readers never wait once a snapshot exists', async () => {
    const f = await startMirrorFixture({ latencyMs: 5 });
    const mirror = f.mirror();
    const [a, b] = await Promise.all([mirror.ready(), mirror.ready()]);
    expect(a).toBe(b);
    expect(f.calls().sort()).toEqual(['GET /Groups', 'GET /Users', 'GET /Users']);
    f.resetCalls();

    const first = mirror.refresh();
    const second = mirror.refresh();
    expect(second).toBe(first);
    expect(mirror.status().refreshing).toBe(true);
    // The snapshot is served while the refresh runs.
    expect(await mirror.ready()).toBe(a);
    expect(mirror.status().refreshing).toBe(true);
    await first;
    expect(f.calls().sort()).toEqual(['GET /Groups', 'GET /Users', 'GET /Users']);
  });

  it('keeps the snapshot when a refresh fails, and records why', async () => {
    const f = await startMirrorFixture();
    const mirror = f.mirror();
    const before = await mirror.ready();
    const asOf = mirror.status().asOf;
    f.emulator.faults.enqueue({ method: 'GET', path: '/Users', fault: 500, times: 10 });
    const outcome = await mirror.refresh();
    expect(outcome.ok).toBe(false);
    expect(mirror.current()).toBe(before);
    expect(mirror.status().asOf).toEqual(asOf);
    expect(mirror.status().lastError?.message).toMatch(/500|could not|failed|unavailable/i);
    f.emulator.faults.clear();
    expect(await mirror.refresh()).toMatchObject({ ok: true, changes: 0 });
    expect(mirror.status().lastError).toBeUndefined();
  });

  it('fails the first read with a typed error and tries again on the next ready()', async () => {
    const f = await startMirrorFixture();
    const mirror = f.mirror();
    f.emulator.faults.enqueue({ method: 'GET', path: '/Users', fault: 500, times: 10 });
    await expect(mirror.ready()).rejects.toMatchObject({ name: 'MirrorUnavailableError' });
    expect(mirror.current()).toBeUndefined();
    f.emulator.faults.clear();
    expect((await mirror.ready()).users.size).toBe(f.emulator.store.userCount);
  });

  it('turns changes made behind its back into UPSTREAM events at the next refresh', async () => {
    const f = await startMirrorFixture();
    const clock = manualClock();
    const mirror = f.mirror({ now: clock.now });
    const snapshot = await mirror.ready();
    const store = f.emulator.store;
    const head = mirror.status().head;
    const [alice, bob, carol] = store.listUsers().filter((u) => u.active);
    const team = store.listTeams().find((t) => store.membersOf(t.id).length > 0)!;
    const role = store.listRoles()[0]!;
    const member = store.membersOf(team.id)[0]!;
    if (!alice || !bob || !carol) throw new Error('demo data has active users');

    clock.advance(60_000);
    store.setActive(alice.id, false);
    store.commitUser(bob.id, { ...bob, displayName: 'Bob Renamed' });
    const newTeam = store.createTeam({ displayName: 'Night Shift' }, [carol.id]);
    const created = store.createUser({ userName: 'new.hire@acme.example', groups: [team.id] });
    store.commitGroup(role.id, { displayName: 'ROLE_Renamed', externalId: role.externalId });
    store.removeMember(team.id, member);
    const outcome = await mirror.refresh();
    const page = await mirror.changesAfter(head, 50);
    expect(outcome).toMatchObject({ ok: true, changes: 8 });

    // Groups first (in the upstream's order), then users, then memberships.
    const upstream = { source: 'UPSTREAM' } as const;
    const inTeam = { ...upstream, groupKind: 'TEAM' } as const;
    expect(page.events.map(brief)).toEqual([
      { ...upstream, type: 'ROLE_RENAMED', groupId: role.id },
      { ...upstream, type: 'TEAM_CREATED', groupId: newTeam.id },
      { ...upstream, type: 'USER_LOCKED', userId: alice.id },
      { ...upstream, type: 'USER_UPDATED', userId: bob.id, fields: ['displayName'] },
      { ...upstream, type: 'USER_CREATED', userId: created.id },
      { ...inTeam, type: 'MEMBER_ADDED', groupId: team.id, userId: created.id },
      { ...inTeam, type: 'MEMBER_REMOVED', groupId: team.id, userId: member },
      { ...inTeam, type: 'MEMBER_ADDED', groupId: newTeam.id, userId: carol.id },
    ]);
    expect(page.events.find((e) => e.type === 'USER_CREATED')?.user).toMatchObject({
      userName: 'new.hire@acme.example',
      active: true,
    });
    expect(page.events.every((e) => e.time === new Date(clock.now()).toISOString())).toBe(true);
    expect(snapshot.users.get(alice.id)?.active).toBe(false);
    expect(snapshot.users.get(bob.id)?.displayName).toBe('Bob Renamed');
    expect(snapshot.groups.get(newTeam.id)?.members.has(carol.id)).toBe(true);
    expect(snapshot.groups.get(team.id)?.members.has(member)).toBe(false);
    expect(snapshot.groups.get(role.id)?.name).toBe('Renamed');
    expect(mirror.status().asOf).toEqual(new Date(clock.now()));

    // Removals: a user deleted outright, a team deleted; their memberships go with them.
    const head2 = page.endCursor;
    store.deleteUser(created.id);
    store.deleteGroup(newTeam.id);
    await mirror.refresh();
    const removed = await mirror.changesAfter(head2, 50);
    expect(removed.events.map(brief)).toEqual([
      { type: 'USER_REMOVED', source: 'UPSTREAM', userId: created.id },
      { type: 'TEAM_DELETED', source: 'UPSTREAM', groupId: newTeam.id },
    ]);
    expect(snapshot.users.has(created.id)).toBe(false);
    expect(snapshot.users.get(carol.id)?.groups).not.toContain(newTeam.id);

    // Nothing changed: no events, asOf moves on.
    clock.advance(60_000);
    expect(await mirror.refresh()).toMatchObject({ ok: true, changes: 0 });
    expect(mirror.status().asOf).toEqual(new Date(clock.now()));
  });
});
