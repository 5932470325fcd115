import { describe, expect, it } from 'vitest';
import { patchOp, send, useEmulator } from './helpers.ts';

describe('PATCH atomicity', () => {
  const emulator = useEmulator();

  it('leaves the user and every membership unchanged when the second op fails', async () => {
    const store = emulator().store;
    const user = store.createUser({ userName: 'atomic@example.com', displayName: 'Before' });
    const kept = store.createTeam({ displayName: 'Kept' });
    const joined = store.createTeam({ displayName: 'Would join' });
    store.addMember(kept.id, user.id);
    const before = store.getUser(user.id);

    const reply = await send(emulator(), 'PATCH', `/Users/${user.id}`, {
      body: patchOp(
        { op: 'replace', path: 'displayName', value: 'After' },
        { op: 'replace', path: 'active', value: 'maybe' },
        { op: 'add', path: 'groups', value: [{ value: joined.id }] },
        { op: 'remove', path: 'groups', value: [{ value: kept.id }] },
      ),
    });
    expect(reply.status).toBe(400);
    expect(reply.body.scimType).toBe('invalidValue');
    expect(store.getUser(user.id)).toEqual(before);
    expect(store.groupsOf(user.id)).toEqual([kept.id]);
    expect(store.membersOf(joined.id)).toEqual([]);
  });

  it('applies no membership op when a later membership op names an unknown team', async () => {
    const store = emulator().store;
    const user = store.createUser({ userName: 'atomic2@example.com' });
    const team = store.createTeam({ displayName: 'Real' });
    const reply = await send(emulator(), 'PATCH', `/Users/${user.id}`, {
      body: patchOp(
        { op: 'add', path: 'groups', value: [{ value: team.id }] },
        { op: 'add', path: 'groups', value: [{ value: 'NoSuchTeam000000000000' }] },
      ),
    });
    expect(reply.status).toBe(404);
    expect(store.groupsOf(user.id)).toEqual([]);
    expect(store.membersOf(team.id)).toEqual([]);
  });

  it('leaves a group unchanged when a later op names an unknown user', async () => {
    const store = emulator().store;
    const member = store.createUser({ userName: 'atomic3@example.com' });
    const team = store.createTeam({ displayName: 'Atomic team', externalId: 'a-1' });
    const reply = await send(emulator(), 'PATCH', `/Groups/${team.id}`, {
      body: patchOp(
        { op: 'replace', path: 'displayName', value: 'Renamed' },
        { op: 'add', path: 'members', value: [{ value: member.id }] },
        { op: 'add', path: 'members', value: [{ value: '999999999999999' }] },
      ),
    });
    expect(reply.status).toBe(404);
    expect(store.getGroup(team.id)).toEqual(team);
    expect(store.membersOf(team.id)).toEqual([]);
  });

  it('leaves the user unchanged when the new userName is taken (409)', async () => {
    const store = emulator().store;
    store.createUser({ userName: 'taken@example.com' });
    const user = store.createUser({ userName: 'free@example.com', externalId: 'x' });
    const reply = await send(emulator(), 'PATCH', `/Users/${user.id}`, {
      body: patchOp(
        { op: 'replace', path: 'externalId', value: 'y' },
        { op: 'replace', path: 'userName', value: 'Taken@Example.com' },
      ),
    });
    expect(reply.status).toBe(409);
    expect(store.getUser(user.id)).toEqual(user);
  });
});

describe('membership consistency, both ways', () => {
  const emulator = useEmulator();

  const groupIdsOf = async (userId: string) =>
    (await send(emulator(), 'GET', `/Users/${userId}`)).body.groups.map(
      (g: { value: string }) => g.value,
    );
  const memberIdsOf = async (groupId: string) =>
    (await send(emulator(), 'GET', `/Groups/${groupId}`)).body.members.map(
      (m: { value: string }) => m.value,
    );

  it('keeps User.groups and Group.members in agreement after writes on either side', async () => {
    const store = emulator().store;
    const a = store.createUser({ userName: 'a@example.com' });
    const b = store.createUser({ userName: 'b@example.com' });
    const team = store.createTeam({ displayName: 'Both ways' });
    const role = store.createRole({ displayName: 'ROLE_Both' });

    await send(emulator(), 'PATCH', `/Users/${a.id}`, {
      body: patchOp({ op: 'add', path: 'groups', value: [{ value: team.id }, { value: role.id }] }),
    });
    await send(emulator(), 'PATCH', `/Groups/${team.id}`, {
      body: patchOp({ op: 'add', path: 'members', value: [{ value: b.id }] }),
    });
    expect(await memberIdsOf(team.id)).toEqual([a.id, b.id]);
    expect(await memberIdsOf(role.id)).toEqual([a.id]);
    expect(await groupIdsOf(a.id)).toEqual([team.id, role.id]);
    expect(await groupIdsOf(b.id)).toEqual([team.id]);

    await send(emulator(), 'PATCH', `/Groups/${role.id}`, {
      body: patchOp({ op: 'remove', path: 'members' }),
    });
    await send(emulator(), 'PATCH', `/Users/${b.id}`, {
      body: patchOp({ op: 'remove', path: 'groups', value: [{ value: team.id }] }),
    });
    expect(await memberIdsOf(role.id)).toEqual([]);
    expect(await memberIdsOf(team.id)).toEqual([a.id]);
    expect(await groupIdsOf(a.id)).toEqual([team.id]);
    expect(await groupIdsOf(b.id)).toEqual([]);
  });

  it('replaces the member set with replace members, and User.groups follows', async () => {
    const store = emulator().store;
    const c = store.createUser({ userName: 'c@example.com' });
    const d = store.createUser({ userName: 'd@example.com' });
    const team = store.createTeam({ displayName: 'Replace' }, [c.id]);
    await send(emulator(), 'PATCH', `/Groups/${team.id}`, {
      body: patchOp({ op: 'replace', path: 'members', value: [{ value: d.id }] }),
    });
    expect(await memberIdsOf(team.id)).toEqual([d.id]);
    expect(await groupIdsOf(c.id)).toEqual([]);
    expect(await groupIdsOf(d.id)).toEqual([team.id]);
  });

  it('drops memberships of a deleted group from User.groups', async () => {
    const store = emulator().store;
    const e = store.createUser({ userName: 'e@example.com' });
    const team = store.createTeam({ displayName: 'Gone' }, [e.id]);
    expect((await send(emulator(), 'DELETE', `/Groups/${team.id}`)).status).toBe(204);
    expect(await groupIdsOf(e.id)).toEqual([]);
  });

  it('keeps memberships when a user is locked by DELETE, and keeps listing the user', async () => {
    const store = emulator().store;
    const f = store.createUser({ userName: 'f@example.com' });
    const team = store.createTeam({ displayName: 'Locked member' }, [f.id]);
    const deleted = await send(emulator(), 'DELETE', `/Users/${f.id}`);
    expect(deleted.status).toBe(204);
    const read = await send(emulator(), 'GET', `/Users/${f.id}`);
    expect(read.status).toBe(200);
    expect(read.body.active).toBe(false);
    expect(await memberIdsOf(team.id)).toEqual([f.id]);
    const listed = await send(emulator(), 'GET', '/Users?filter=userName eq "f@example.com"');
    expect(listed.body.Resources[0]).toMatchObject({ id: f.id, active: false });
  });

  it('joins teams named in groups at creation, and refuses an unknown one with 404', async () => {
    const store = emulator().store;
    const team = store.createTeam({ displayName: 'At create' });
    const created = await send(emulator(), 'POST', '/Users', {
      body: { userName: 'g@example.com', groups: [{ value: team.id }] },
    });
    expect(created.status).toBe(201);
    expect(await memberIdsOf(team.id)).toEqual([created.body.id]);
    const refused = await send(emulator(), 'POST', '/Users', {
      body: { userName: 'h@example.com', groups: [{ value: 'UnknownTeam00000000000' }] },
    });
    expect(refused.status).toBe(404);
    expect(store.findUserByUserName('h@example.com')).toBeUndefined();
  });
});
