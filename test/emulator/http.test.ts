import { beforeAll, describe, expect, it } from 'vitest';
import { createEmulator } from '../../src/emulator/index.ts';
import { SCHEMA_ERROR, send, useEmulator } from './helpers.ts';

describe('paging', () => {
  const emulator = useEmulator({ seats: 2000 });
  let ids: string[];
  beforeAll(() => {
    ids = Array.from(
      { length: 7 },
      (_, i) => emulator().store.createUser({ userName: `p${i}@example.com` }).id,
    );
  });
  const page = async (query: string) => (await send(emulator(), 'GET', `/Users?${query}`)).body;
  const pageIds = (body: { Resources: { id: string }[] }) => body.Resources.map((r) => r.id);

  it('returns creation order with 1-based startIndex and itemsPerPage = returned', async () => {
    const body = await page('startIndex=3&count=2');
    expect(body).toMatchObject({ totalResults: 7, startIndex: 3, itemsPerPage: 2 });
    expect(pageIds(body)).toEqual(ids.slice(2, 4));
    const last = await page('startIndex=7&count=5');
    expect(last).toMatchObject({ startIndex: 7, itemsPerPage: 1 });
    expect(pageIds(last)).toEqual([ids[6]]);
  });

  it('treats startIndex < 1 as 1 and answers an empty page past the end', async () => {
    expect(await page('startIndex=0&count=2')).toMatchObject({ startIndex: 1, itemsPerPage: 2 });
    expect(pageIds(await page('startIndex=-5&count=1'))).toEqual([ids[0]]);
    expect(await page('startIndex=8')).toMatchObject({
      totalResults: 7,
      startIndex: 8,
      itemsPerPage: 0,
      Resources: [],
    });
  });

  it('answers only totalResults for count=0 and for a negative count', async () => {
    for (const query of ['count=0', 'count=-3']) {
      expect(await page(query)).toEqual({
        schemas: ['urn:ietf:params:scim:api:messages:2.0:ListResponse'],
        totalResults: 7,
        startIndex: 1,
        itemsPerPage: 0,
        Resources: [],
      });
    }
  });

  it('defaults count to 100 and caps it at 1000', async () => {
    const store = emulator().store;
    for (let i = 7; i < 1005; i++) store.createUser({ userName: `bulk${i}@example.com` });
    expect((await page('')).itemsPerPage).toBe(100);
    expect(await page('count=5000')).toMatchObject({ totalResults: 1005, itemsPerPage: 1000 });
  });
});

describe('requests and answers', () => {
  const emulator = useEmulator();

  it('answers application/scim+json and accepts scim+json, json or no Content-Type', async () => {
    const types: (string | undefined)[] = [
      'application/scim+json',
      'application/json; charset=utf-8',
      undefined,
    ];
    for (const [i, type] of types.entries()) {
      const reply = await send(emulator(), 'POST', '/Users', {
        raw: JSON.stringify({ userName: `ct${i}@example.com` }),
        headers: type ? { 'content-type': type } : {},
      });
      expect(reply.status, String(type)).toBe(201);
      expect(reply.headers.get('content-type')).toBe('application/scim+json; charset=utf-8');
    }
    const plain = await send(emulator(), 'POST', '/Users', {
      raw: JSON.stringify({ userName: 'ct-text@example.com' }),
      headers: { 'content-type': 'text/plain' },
    });
    expect(plain.status).toBe(415);
  });

  it('answers invalid JSON with 400 invalidSyntax', async () => {
    const reply = await send(emulator(), 'POST', '/Users', {
      raw: '{"userName": ',
      headers: { 'content-type': 'application/scim+json' },
    });
    expect(reply.status).toBe(400);
    expect(reply.body).toMatchObject({
      schemas: [SCHEMA_ERROR],
      status: '400',
      scimType: 'invalidSyntax',
    });
  });

  it('validates userName on create: required, an e-mail address', async () => {
    const missing = await send(emulator(), 'POST', '/Users', { body: { displayName: 'No Name' } });
    expect(missing.status).toBe(400);
    expect(missing.body.scimType).toBe('invalidValue');
    const notEmail = await send(emulator(), 'POST', '/Users', { body: { userName: 'jdoe' } });
    expect(notEmail.status).toBe(400);
    expect(notEmail.body.scimType).toBe('invalidValue');
  });

  it('creates Keeper-shaped users: ignores roles, password, meta, the extension and unknowns', async () => {
    const reply = await send(emulator(), 'POST', '/Users', {
      body: {
        schemas: ['urn:ietf:params:scim:schemas:core:2.0:User'],
        UserName: 'shape@example.com',
        roles: 'admin',
        password: 'secret',
        meta: { resourceType: 'User' },
        nickName: 'shapey',
        'urn:ietf:params:scim:schemas:extension:enterprise:2.0:User': { department: 'X' },
        active: 'True',
      },
    });
    expect(reply.status).toBe(201);
    expect(reply.body).toEqual({
      schemas: ['urn:ietf:params:scim:schemas:core:2.0:User'],
      id: expect.stringMatching(/^\d+$/),
      userName: 'shape@example.com',
      displayName: 'shape@example.com',
      emails: [{ primary: true, value: 'shape@example.com', type: 'work' }],
      groups: [],
      active: true,
    });
  });

  it('never reuses ids and answers 404 for absent and non-numeric user ids', async () => {
    const a = await send(emulator(), 'POST', '/Users', { body: { userName: 'id1@example.com' } });
    const b = await send(emulator(), 'POST', '/Users', { body: { userName: 'id2@example.com' } });
    expect(BigInt(b.body.id)).toBeGreaterThan(BigInt(a.body.id));
    for (const id of ['1', 'not-a-number', `${b.body.id}0`]) {
      const reply = await send(emulator(), 'GET', `/Users/${id}`);
      expect(reply.status, id).toBe(404);
      expect(reply.body).toMatchObject({ schemas: [SCHEMA_ERROR], status: '404' });
      expect(reply.body).not.toHaveProperty('scimType');
    }
  });

  it('replaces on PUT, keeps the lock state when active is omitted, 409 on a taken userName', async () => {
    const store = emulator().store;
    const user = store.createUser({
      userName: 'put@example.com',
      displayName: 'Put',
      externalId: 'e',
      name: { givenName: 'P' },
    });
    store.setActive(user.id, false);
    const reply = await send(emulator(), 'PUT', `/Users/${user.id}`, {
      body: { userName: 'put2@example.com' },
    });
    expect(reply.status).toBe(200);
    expect(reply.body).toEqual({
      schemas: ['urn:ietf:params:scim:schemas:core:2.0:User'],
      id: user.id,
      userName: 'put2@example.com',
      displayName: 'put2@example.com',
      emails: [{ primary: true, value: 'put2@example.com', type: 'work' }],
      groups: [],
      active: false,
    });
    store.createUser({ userName: 'other-put@example.com' });
    const conflict = await send(emulator(), 'PUT', `/Users/${user.id}`, {
      body: { userName: 'OTHER-put@example.com', active: true },
    });
    expect(conflict.status).toBe(409);
    expect(store.getUser(user.id)?.active).toBe(false);
  });

  it('honours attributes and excludedAttributes', async () => {
    const store = emulator().store;
    const user = store.createUser({
      userName: 'proj@example.com',
      name: { givenName: 'G', familyName: 'F' },
    });
    const team = store.createTeam({ displayName: 'Projected', externalId: 'x' }, [user.id]);
    const group = await send(emulator(), 'GET', `/Groups/${team.id}?excludedAttributes=members`);
    expect(group.body).toEqual({
      schemas: ['urn:ietf:params:scim:schemas:core:2.0:Group'],
      id: team.id,
      displayName: 'Projected',
      externalId: 'x',
    });
    const list = await send(
      emulator(),
      'GET',
      '/Groups?excludedAttributes=members&filter=displayName+eq+%22Projected%22',
    );
    expect(list.body.Resources).toEqual([group.body]);
    const only = await send(
      emulator(),
      'GET',
      `/Users/${user.id}?attributes=userName,name.givenName`,
    );
    expect(only.body).toEqual({
      schemas: ['urn:ietf:params:scim:schemas:core:2.0:User'],
      id: user.id,
      userName: 'proj@example.com',
      name: { givenName: 'G' },
    });
  });

  it('refuses renaming a team across the role prefix with 400 mutability', async () => {
    const team = emulator().store.createTeam({ displayName: 'Plain team' });
    const reply = await send(emulator(), 'PATCH', `/Groups/${team.id}`, {
      body: { Operations: [{ op: 'replace', path: 'displayName', value: 'ROLE_Sneaky' }] },
    });
    expect(reply.status).toBe(400);
    expect(reply.body.scimType).toBe('mutability');
    expect(emulator().store.getGroup(team.id)?.kind).toBe('team');
  });

  it('answers unknown and unsupported paths with error bodies', async () => {
    for (const [method, path, status] of [
      ['POST', '/Bulk', 501],
      ['POST', '/.search', 501],
      ['POST', '/Users/.search', 501],
      ['GET', '/Me', 501],
      ['GET', '/Nope', 404],
      ['GET', '/Users/1/extra', 404],
      ['GET', '/Schemas/urn:nope', 404],
      ['DELETE', '/Users', 405],
    ] as const) {
      const reply = await send(emulator(), method, path, method === 'POST' ? { body: {} } : {});
      expect(reply.status, `${method} ${path}`).toBe(status);
      expect(reply.body).toMatchObject({ schemas: [SCHEMA_ERROR], status: String(status) });
    }
  });
});

describe('authentication', () => {
  const emulator = useEmulator({ token: 'test-token-123' });

  it('answers 401 with an RFC error body for a missing or wrong token, and logs it', async () => {
    emulator().log.clear();
    for (const token of [null, 'wrong']) {
      const reply = await send(emulator(), 'GET', '/Users', { token });
      expect(reply.status).toBe(401);
      expect(reply.body).toEqual({
        schemas: [SCHEMA_ERROR],
        status: '401',
        detail: expect.any(String),
      });
    }
    expect(emulator().log.entries.map((e) => [e.method, e.path, e.status])).toEqual([
      ['GET', '/Users', 401],
      ['GET', '/Users', 401],
    ]);
    expect((await send(emulator(), 'GET', '/Users')).status).toBe(200);
  });

  it('refuses another node id in the URL with 401 naming the node', async () => {
    const e = emulator();
    const response = await fetch(`${e.url}/api/rest/scim/v2/123456789/Users`, {
      headers: { authorization: `Bearer ${e.token}` },
    });
    expect(response.status).toBe(401);
    const body = await response.json();
    expect(body.detail).toContain('123456789');
    expect((await fetch(`${e.url}/scim/v2/Users`)).status).toBe(404);
  });
});

describe('groupMembers: omit', () => {
  const emulator = useEmulator({ groupMembers: 'omit' });

  it('never returns members on groups, while User.groups still shows membership', async () => {
    const store = emulator().store;
    const user = store.createUser({ userName: 'omit@example.com' });
    const team = store.createTeam({ displayName: 'Silent' }, [user.id]);
    const one = await send(emulator(), 'GET', `/Groups/${team.id}`);
    expect(one.body).not.toHaveProperty('members');
    const list = await send(emulator(), 'GET', '/Groups?attributes=members');
    expect(list.body.Resources[0]).not.toHaveProperty('members');
    const created = await send(emulator(), 'POST', '/Groups', { body: { displayName: 'New' } });
    expect(created.body).not.toHaveProperty('members');
    expect((await send(emulator(), 'GET', `/Users/${user.id}`)).body.groups).toEqual([
      { value: team.id, display: 'Silent' },
    ]);
  });
});

describe('createEmulator options', () => {
  it('uses the given node id and role prefix, closes once for good, refuses a bad node id', async () => {
    const e = await createEmulator({ nodeId: '1743756723210', rolePrefix: 'R-' });
    try {
      expect(e.baseUrl).toBe(`${e.url}/api/rest/scim/v2/1743756723210`);
      expect(e.token).toMatch(/^[A-Za-z0-9_-]{43}$/);
      const role = await send(e, 'POST', '/Groups', { body: { displayName: 'R-Ops' } });
      expect(e.store.getGroup(role.body.id)?.kind).toBe('role');
    } finally {
      await e.close();
    }
    // close() is idempotent, and the port is really released.
    await e.close();
    await expect(fetch(`${e.baseUrl}/Users`)).rejects.toThrow();
    await expect(createEmulator({ nodeId: 'node-1' })).rejects.toThrow(/nodeId/);
  });
});
