import { describe, expect, it } from 'vitest';
import { SCHEMA_ERROR, send, useEmulator } from './helpers.ts';

// Every request of Keeper's Postman guide (seeds/keeper-scim-api-provisioning.ja.md), sent with
// the guide's bodies. Placeholders (<group_id>, <user_id>) are filled with real ids; the guide's
// `// SCIM definition not used in Keeper` comments are stripped, as Postman does before sending.

const stripComments = (json: string) => json.replace(/\s\/\/[^\n]*/g, '');

const CREATE_USER = (groupId: string) =>
  stripComments(`{
 "schemas": [
   "urn:ietf:params:scim:schemas:core:2.0:User",
   "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"
 ],
 "userName": "email@domain.com",
 "displayName": "<user_name>",
 "externalId": "",
 "name": {
   "familyName": "<first_name>",
   "givenName": "<last_name>"
 },
 "emails":[
 	{
   "value":"email@domain.com"
 	}
 ],
 "roles": [], // SCIM definition not used in Keeper
 "groups":[
    {
      "value":"${groupId}",
      "$ref":"http://keepersecurity.com/api/rest/scim/v2/<node_id>/${groupId}/scim/Groups",
      "display":"<team_name>"
    }
 ]
}`);

const CREATE_TEAM = (name: string) => ({
  schemas: [
    'urn:ietf:params:scim:schemas:core:2.0:Group',
    'http://schemas.microsoft.com/2006/11/ResourceManagement/ADSCIM/Group',
  ],
  displayName: name,
  externalId: 'dfe9166c-57f9-417d-83a6-072b5a56a4fe',
});

const scimJson = { 'content-type': 'application/scim+json' };

describe('Keeper Postman guide, request by request', () => {
  const emulator = useEmulator({ seats: 5 });

  it('creates a team (Groups/POST) and lists it (Groups/GET)', async () => {
    const created = await send(emulator(), 'POST', '/Groups', { body: CREATE_TEAM('Team Name') });
    expect(created.status).toBe(201);
    expect(created.body.id).toMatch(/^[A-Za-z0-9][A-Za-z0-9_-]{21}$/);
    expect(created.body).toMatchObject({
      schemas: ['urn:ietf:params:scim:schemas:core:2.0:Group'],
      displayName: 'Team Name',
      externalId: 'dfe9166c-57f9-417d-83a6-072b5a56a4fe',
      members: [],
    });

    const list = await send(emulator(), 'GET', '/Groups');
    expect(list.status).toBe(200);
    expect(list.body).toMatchObject({
      schemas: ['urn:ietf:params:scim:api:messages:2.0:ListResponse'],
      totalResults: 1,
      Resources: [{ id: created.body.id, displayName: 'Team Name', members: [] }],
    });
    const one = await send(emulator(), 'GET', `/Groups/${created.body.id}`);
    expect(one.status).toBe(200);
    expect(one.body.id).toBe(created.body.id);
  });

  it('adds a user with a team (Users/POST 201), then refuses the same e-mail (409)', async () => {
    const [team] = emulator().store.listTeams();
    const created = await send(emulator(), 'POST', '/Users', {
      raw: CREATE_USER(team!.id),
      headers: scimJson,
    });
    expect(created.status).toBe(201);
    expect(created.body).toEqual({
      schemas: ['urn:ietf:params:scim:schemas:core:2.0:User'],
      id: expect.stringMatching(/^\d{15,16}$/),
      userName: 'email@domain.com',
      displayName: '<user_name>',
      name: { familyName: '<first_name>', givenName: '<last_name>' },
      emails: [{ primary: true, value: 'email@domain.com', type: 'work' }],
      groups: [{ value: team!.id, display: 'Team Name' }],
      active: true,
    });
    expect(emulator().store.membersOf(team!.id)).toEqual([created.body.id]);

    const again = await send(emulator(), 'POST', '/Users', {
      raw: CREATE_USER(team!.id).replace('"email@domain.com"', '"EMAIL@domain.com"'),
      headers: scimJson,
    });
    expect(again.status).toBe(409);
    expect(again.body).toEqual({
      schemas: [SCHEMA_ERROR],
      status: '409',
      scimType: 'uniqueness',
      detail: 'Email already taken',
    });
  });

  it('answers 428 once the licensed seats are used, locked users included', async () => {
    const store = emulator().store;
    for (let i = store.userCount; i < 5; i++) {
      const user = store.createUser({ userName: `seat${i}@domain.com` });
      if (i === 4) store.setActive(user.id, false);
    }
    const over = await send(emulator(), 'POST', '/Users', {
      body: { userName: 'one.too.many@domain.com' },
    });
    expect(over.status).toBe(428);
    expect(over.body).toEqual({
      schemas: [SCHEMA_ERROR],
      status: '428',
      detail: 'Number of licensed seats was exceeded',
    });
    expect(store.findUserByUserName('one.too.many@domain.com')).toBeUndefined();
  });

  it('locks and unlocks with "op": "Replace" and string values (Users/PATCH)', async () => {
    const user = emulator().store.findUserByUserName('email@domain.com')!;
    const body = (value: string) => ({
      schemas: ['urn:ietf:params:scim:api:messages:2.0:PatchOp'],
      Operations: [{ op: 'Replace', path: 'active', value }],
    });
    const locked = await send(emulator(), 'PATCH', `/Users/${user.id}`, { body: body('false') });
    expect(locked.status).toBe(200);
    expect(locked.body.active).toBe(false);
    expect(emulator().store.getUser(user.id)?.active).toBe(false);
    const unlocked = await send(emulator(), 'PATCH', `/Users/${user.id}`, { body: body('true') });
    expect(unlocked.status).toBe(200);
    expect(unlocked.body.active).toBe(true);
  });

  it('gets all users, one user, filters by id with + encoding, and pages', async () => {
    const user = emulator().store.findUserByUserName('email@domain.com')!;
    const all = await send(emulator(), 'GET', '/Users');
    expect(all.body.totalResults).toBe(5);
    expect(all.body.Resources).toHaveLength(5);

    const one = await send(emulator(), 'GET', `/Users/${user.id}`);
    expect(one.status).toBe(200);
    expect(one.body.userName).toBe('email@domain.com');

    const byId = await send(emulator(), 'GET', `/Users?filter=id+eq+%22${user.id}%22`);
    expect(byId.status).toBe(200);
    expect(byId.body).toMatchObject({ totalResults: 1, startIndex: 1, itemsPerPage: 1 });
    expect(byId.body.Resources[0].id).toBe(user.id);

    const paged = await send(emulator(), 'GET', '/Users?startIndex=2&count=200');
    expect(paged.body).toMatchObject({ totalResults: 5, startIndex: 2, itemsPerPage: 4 });
    expect(paged.body.Resources.map((u: { id: string }) => u.id)).toEqual(
      all.body.Resources.slice(1).map((u: { id: string }) => u.id),
    );
  });

  it('adds and removes a team member (Groups/PATCH members, no schemas in the body)', async () => {
    const store = emulator().store;
    const [team] = store.listTeams();
    const user = store.findUserByUserName('seat1@domain.com')!;
    const body = (op: string) => ({
      Operations: [{ op, path: 'members', value: [{ value: user.id }] }],
    });
    const added = await send(emulator(), 'PATCH', `/Groups/${team!.id}`, { body: body('add') });
    expect(added.status).toBe(200);
    expect(added.body.members).toContainEqual({ value: user.id, display: 'seat1@domain.com' });
    const read = await send(emulator(), 'GET', `/Users/${user.id}`);
    expect(read.body.groups).toEqual([{ value: team!.id, display: 'Team Name' }]);

    const removed = await send(emulator(), 'PATCH', `/Groups/${team!.id}`, {
      body: body('remove'),
    });
    expect(removed.status).toBe(200);
    expect(removed.body.members.map((m: { value: string }) => m.value)).not.toContain(user.id);
    expect(store.groupsOf(user.id)).toEqual([]);
  });

  it('turns a ROLE_ group into a role that takes members like a team', async () => {
    const created = await send(emulator(), 'POST', '/Groups', { body: CREATE_TEAM('ROLE_group') });
    expect(created.status).toBe(201);
    expect(created.body.id).toMatch(/^\d{15,16}$/);
    expect(created.body.displayName).toBe('ROLE_group');
    const store = emulator().store;
    expect(store.listRoles().map((r) => r.id)).toEqual([created.body.id]);
    expect(store.listTeams().map((t) => t.id)).not.toContain(created.body.id);

    const user = store.findUserByUserName('seat2@domain.com')!;
    const assigned = await send(emulator(), 'PATCH', `/Groups/${created.body.id}`, {
      body: { Operations: [{ op: 'add', path: 'members', value: [{ value: user.id }] }] },
    });
    expect(assigned.status).toBe(200);
    const read = await send(emulator(), 'GET', `/Users/${user.id}`);
    expect(read.body.groups).toEqual([{ value: created.body.id, display: 'ROLE_group' }]);
    const listed = await send(emulator(), 'GET', '/Groups');
    expect(listed.body.Resources.map((g: { displayName: string }) => g.displayName)).toContain(
      'ROLE_group',
    );
  });

  it('updates user attributes with the guide PUT body', async () => {
    const store = emulator().store;
    const user = store.findUserByUserName('seat3@domain.com')!;
    const [team] = store.listTeams();
    const put = await send(emulator(), 'PUT', `/Users/${user.id}`, {
      headers: scimJson,
      raw: stripComments(`{
  "schemas": [
    "urn:ietf:params:scim:schemas:core:2.0:User"
  ],
  "userName": "seat3@domain.com",
  "displayName": "Desired display name",
  "externalId":"",
  "name": {
     "familyName": "First",
     "givenName": "Last"
  },
  "emails": [
    {
      "value": "seat3@domain.com",
      "primary": true
    }
  ],
  "roles":[], // SCIM definition not used in Keeper
  "groups":[
    {
      "value":"${team!.id}",
      "$ref":"http://keepersecurity.com/api/rest/scim/v2/<node_id>/${team!.id}/scim/Groups",
      "display":"<group_name>"
    }
 ],
  "active": true
}`),
    });
    expect(put.status).toBe(200);
    expect(put.body).toMatchObject({
      id: user.id,
      userName: 'seat3@domain.com',
      displayName: 'Desired display name',
      name: { familyName: 'First', givenName: 'Last' },
      groups: [{ value: team!.id }],
      active: true,
    });
    expect(put.body).not.toHaveProperty('externalId');
    expect(store.membersOf(team!.id)).toContain(user.id);
  });

  it('applies the eight-operation PATCH of the guide', async () => {
    const store = emulator().store;
    const user = store.findUserByUserName('seat2@domain.com')!;
    const [teamA] = store.listTeams();
    const teamB = store.createTeam({ displayName: 'Team B' });
    store.addMember(teamB.id, user.id);
    const reply = await send(emulator(), 'PATCH', `/Users/${user.id}`, {
      body: {
        schemas: ['urn:ietf:params:scim:api:messages:2.0:PatchOp'],
        Operations: [
          { op: 'replace', path: 'userName', value: 'renamed@domain.com' },
          { op: 'replace', path: 'displayName', value: 'Renamed User' },
          { op: 'replace', path: 'externalId', value: 'ext-8' },
          { op: 'replace', path: 'name.familyName', value: 'Family' },
          { op: 'replace', path: 'name.givenName', value: 'Given' },
          { op: 'replace', path: 'active', value: false },
          {
            op: 'add',
            path: 'groups',
            value: [{ $ref: 'https://example.com/v2/Users/1743756723210', value: teamA!.id }],
          },
          {
            op: 'remove',
            path: 'groups',
            value: [{ $ref: `https://example.com/v2/Users/${user.id}`, value: teamB.id }],
          },
        ],
      },
    });
    expect(reply.status).toBe(200);
    expect(reply.body).toMatchObject({
      id: user.id,
      userName: 'renamed@domain.com',
      displayName: 'Renamed User',
      externalId: 'ext-8',
      name: { familyName: 'Family', givenName: 'Given' },
      emails: [{ primary: true, value: 'renamed@domain.com', type: 'work' }],
      active: false,
    });
    const groupIds = reply.body.groups.map((g: { value: string }) => g.value);
    expect(groupIds).toContain(teamA!.id);
    expect(groupIds).not.toContain(teamB.id);
    expect(store.membersOf(teamB.id)).toEqual([]);
    expect(store.findUserByUserName('seat2@domain.com')).toBeUndefined();
  });

  it('deletes a team (Groups/DELETE) and its memberships', async () => {
    const store = emulator().store;
    const team = store.createTeam({ displayName: 'Doomed' });
    const user = store.findUserByUserName('seat1@domain.com')!;
    store.addMember(team.id, user.id);
    const deleted = await send(emulator(), 'DELETE', `/Groups/${team.id}`);
    expect(deleted.status).toBe(204);
    expect(deleted.body).toBeUndefined();
    expect((await send(emulator(), 'GET', `/Groups/${team.id}`)).status).toBe(404);
    expect(store.groupsOf(user.id)).not.toContain(team.id);
  });

  it('serves the five SCIM discovery URLs', async () => {
    const spc = await send(emulator(), 'GET', '/ServiceProviderConfig');
    expect(spc.status).toBe(200);
    expect(spc.body).toMatchObject({
      patch: { supported: true },
      bulk: { supported: false },
      filter: { supported: true, maxResults: 1000 },
      sort: { supported: false },
      etag: { supported: false },
      changePassword: { supported: false },
    });
    const user = await send(emulator(), 'GET', '/ResourceTypes/User');
    expect(user.body).toMatchObject({ id: 'User', endpoint: '/Users' });
    const group = await send(emulator(), 'GET', '/ResourceTypes/Group');
    expect(group.body).toMatchObject({ id: 'Group', endpoint: '/Groups' });
    const schema = await send(
      emulator(),
      'GET',
      '/Schemas/urn:ietf:params:scim:schemas:core:2.0:User',
    );
    expect(schema.status).toBe(200);
    expect(schema.body.id).toBe('urn:ietf:params:scim:schemas:core:2.0:User');
    expect(schema.body.attributes.map((a: { name: string }) => a.name)).toContain('userName');
    const all = await send(emulator(), 'GET', '/Schemas');
    expect(all.body.schemas).toEqual(['urn:ietf:params:scim:api:messages:2.0:ListResponse']);
    expect(all.body.Resources.map((s: { id: string }) => s.id)).toEqual([
      'urn:ietf:params:scim:schemas:core:2.0:User',
      'urn:ietf:params:scim:schemas:core:2.0:Group',
    ]);
  });
});
