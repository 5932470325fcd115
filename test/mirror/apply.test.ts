import { describe, expect, it } from 'vitest';
import type { Change } from '../../src/directory/mirror/snapshot.ts';
import { manualClock, startMirrorFixture } from './fixture.ts';

// Read-your-writes: the write path calls `apply` with what the upstream answered, and the
// snapshot shows it at once, with a THIS_SERVICE event naming the mutation; the next refresh,
// which sees the same state upstream, adds nothing. A refresh whose read started before the write
// does not undo it.

const brief = (c: Change) => ({
  type: c.type,
  source: c.source.kind === 'THIS_SERVICE' ? c.source.mutation : c.source.kind,
  ...(c.userId ? { userId: c.userId } : {}),
  ...(c.groupId ? { groupId: c.groupId } : {}),
  ...(c.fields ? { fields: c.fields } : {}),
});

describe('directory mirror: apply (read-your-writes)', () => {
  it('applies each kind of write at once as a THIS_SERVICE event; the next refresh agrees', async () => {
    const f = await startMirrorFixture();
    const mirror = f.mirror();
    const snapshot = await mirror.ready();
    const head = mirror.status().head;
    const team = f.emulator.store.listTeams()[0]!;

    const created = await f.scim.users.create({
      userName: 'ada@acme.example',
      name: { givenName: 'Ada', familyName: 'Lovelace' },
      groups: [{ value: team.id }],
    });
    const pending = mirror.apply({ kind: 'user', mutation: 'createUser', user: created });
    // Synchronously visible: the caller's next read sees it.
    expect(snapshot.users.get(created.id)?.familyName).toBe('Lovelace');
    expect(snapshot.groups.get(team.id)?.members.has(created.id)).toBe(true);
    expect((await pending).map(brief)).toEqual([
      { type: 'USER_CREATED', source: 'createUser', userId: created.id },
      { type: 'MEMBER_ADDED', source: 'createUser', userId: created.id, groupId: team.id },
    ]);

    const updated = await f.scim.users.patch(created.id, [
      { op: 'replace', path: 'displayName', value: 'Countess' },
    ]);
    await mirror.apply({ kind: 'user', mutation: 'updateUser', user: updated! });
    await f.scim.users.delete(created.id);
    const locked = await f.scim.users.get(created.id);
    await mirror.apply({ kind: 'user', mutation: 'deprovisionUser', user: locked });
    expect(snapshot.users.get(created.id)).toMatchObject({
      displayName: 'Countess',
      active: false,
    });

    const group = await f.scim.groups.create({ displayName: 'Analysts', members: [] });
    await mirror.apply({ kind: 'group', mutation: 'createTeam', group });
    await f.scim.groups.patch(group.id, [
      { op: 'add', path: 'members', value: [{ value: created.id }] },
    ]);
    await mirror.apply({
      kind: 'members',
      mutation: 'addTeamMembers',
      groupId: group.id,
      added: [created.id],
    });
    const renamed = await f.scim.groups.patch(group.id, [
      { op: 'replace', path: 'displayName', value: 'Analysis' },
    ]);
    await mirror.apply({
      kind: 'group',
      mutation: 'renameTeam',
      group: renamed ?? (await f.scim.groups.get(group.id)),
    });
    await f.scim.groups.patch(team.id, [
      { op: 'remove', path: `members[value eq "${created.id}"]` },
    ]);
    await mirror.apply({
      kind: 'members',
      mutation: 'removeTeamMembers',
      groupId: team.id,
      removed: [created.id],
    });
    expect(snapshot.groups.get(group.id)).toMatchObject({ name: 'Analysis', kind: 'Team' });
    expect(snapshot.users.get(created.id)?.groups).toEqual([group.id]);

    const page = await mirror.changesAfter(head, 50);
    expect(page.events.slice(2).map(brief)).toEqual([
      { type: 'USER_UPDATED', source: 'updateUser', userId: created.id, fields: ['displayName'] },
      { type: 'USER_LOCKED', source: 'deprovisionUser', userId: created.id },
      { type: 'TEAM_CREATED', source: 'createTeam', groupId: group.id },
      { type: 'MEMBER_ADDED', source: 'addTeamMembers', userId: created.id, groupId: group.id },
      { type: 'TEAM_RENAMED', source: 'renameTeam', groupId: group.id },
      { type: 'MEMBER_REMOVED', source: 'removeTeamMembers', userId: created.id, groupId: team.id },
    ]);

    // The upstream agrees with everything the writes said: the refresh finds nothing new.
    expect(await mirror.refresh()).toMatchObject({ ok: true, changes: 0 });

    await f.scim.groups.delete(group.id);
    await mirror.apply({ kind: 'groupDeleted', mutation: 'deleteTeam', groupId: group.id });
    f.emulator.store.deleteUser(created.id);
    const removed = await mirror.apply({
      kind: 'userRemoved',
      mutation: 'deleteUser',
      userId: created.id,
    });
    expect(removed.map(brief)).toEqual([
      { type: 'USER_REMOVED', source: 'deleteUser', userId: created.id },
    ]);
    expect(snapshot.groups.has(group.id)).toBe(false);
    expect(snapshot.users.has(created.id)).toBe(false);
    expect(await mirror.refresh()).toMatchObject({ ok: true, changes: 0 });
  });

  it('a refresh whose read started before a write does not undo it; the one after reports the upstream', async () => {
    const f = await startMirrorFixture();
    const clock = manualClock();
    const mirror = f.mirror({ now: clock.now });
    const snapshot = await mirror.ready();
    const user = f.emulator.store.listUsers().find((u) => u.active)!;
    const team = f.emulator.store
      .listTeams()
      .find((t) => !f.emulator.store.membersOf(t.id).includes(user.id))!;
    clock.advance(1000);

    // The refresh reads the node; the write lands in the mirror while that read is under way.
    // (The write is applied without reaching the emulator, standing in for a write the read
    // was too early to see.)
    const refresh = mirror.refresh();
    clock.advance(10);
    const scimUser = await f.scim.users.get(user.id);
    await mirror.apply({
      kind: 'user',
      mutation: 'lockUser',
      user: { ...scimUser, active: false },
    });
    await mirror.apply({
      kind: 'members',
      mutation: 'addTeamMembers',
      groupId: team.id,
      added: [user.id],
    });
    expect(await refresh).toMatchObject({ ok: true, changes: 0 });
    expect(snapshot.users.get(user.id)?.active).toBe(false);
    expect(snapshot.groups.get(team.id)?.members.has(user.id)).toBe(true);

    // The next refresh started after the write: the upstream's word wins, as an UPSTREAM change.
    clock.advance(60_000);
    const head = mirror.status().head;
    await mirror.refresh();
    const page = await mirror.changesAfter(head, 10);
    expect(page.events.map(brief)).toEqual([
      { type: 'USER_UNLOCKED', source: 'UPSTREAM', userId: user.id },
      { type: 'MEMBER_REMOVED', source: 'UPSTREAM', userId: user.id, groupId: team.id },
    ]);
  });

  it('does nothing before the first snapshot (the first read will see the write)', async () => {
    const f = await startMirrorFixture();
    const mirror = f.mirror();
    const user = await f.scim.users.get(f.emulator.store.listUsers()[0]!.id);
    expect(await mirror.apply({ kind: 'user', mutation: 'updateUser', user })).toEqual([]);
    expect(mirror.current()).toBeUndefined();
  });
});
