import { inspect } from 'node:util';
import { afterEach, describe, expect, it } from 'vitest';
import { listQuery, type UpstreamCall } from '../../src/scim/client.ts';
import { ScimProtocolError } from '../../src/scim/errors.ts';
import { userEq } from '../../src/scim/filter.ts';
import { setActive } from '../../src/scim/patch.ts';
import { testScimClient } from '../test-config.ts';
import { BASE_PATH, mockClient, ORIGIN, SCIM_JSON, TOKEN, user } from './mock.ts';

// Transport edge cases over undici's MockAgent: what a real server (the emulator) cannot be made
// to produce. Everything else is exercised against the emulator in client.emulator.test.ts.

let env: ReturnType<typeof mockClient> | undefined;
const setup = (...args: Parameters<typeof mockClient>) => {
  env = mockClient(...args);
  return env;
};
afterEach(async () => {
  await env?.close();
  env = undefined;
});

const list = (resources: unknown[], total = resources.length) => ({
  schemas: ['urn:ietf:params:scim:api:messages:2.0:ListResponse'],
  totalResults: total,
  startIndex: 1,
  itemsPerPage: resources.length,
  Resources: resources,
});

describe('scim client requests', () => {
  it('sends the bearer token, Accept, User-Agent, and Content-Type only with a body', async () => {
    const { pool, client } = setup();
    // MockAgent may call a header matcher more than once per request: keep the last call.
    const seen = new Map<string, Record<string, string>>();
    const capture = (method: string) => (headers: Record<string, string>) => {
      seen.set(
        method,
        Object.fromEntries(Object.entries(headers).map(([k, v]) => [k.toLowerCase(), v])),
      );
      return true;
    };
    pool
      .intercept({ path: `${BASE_PATH}/Users/1`, method: 'GET', headers: capture('GET') })
      .reply(200, user('1'));
    pool
      .intercept({ path: `${BASE_PATH}/Users`, method: 'POST', headers: capture('POST') })
      .reply(201, user('2'), { headers: SCIM_JSON });
    await client.users.get('1');
    await client.users.create({ userName: 'u2@example.com' });
    expect(seen.get('GET')).toEqual({
      authorization: `Bearer ${TOKEN}`,
      accept: 'application/scim+json, application/json',
      'user-agent': 'keeper-scim-graphql',
    });
    expect(seen.get('POST')).toMatchObject({ 'content-type': 'application/scim+json' });
  });

  it('adds the core schema to bodies that have none', async () => {
    const { pool, client } = setup();
    let body: unknown;
    pool
      .intercept({
        path: `${BASE_PATH}/Groups`,
        method: 'POST',
        body: (b) => {
          body = JSON.parse(b);
          return true;
        },
      })
      .reply(201, { id: 'g1', displayName: 'Eng' });
    await client.groups.create({ displayName: 'Eng' });
    expect(body).toEqual({
      schemas: ['urn:ietf:params:scim:schemas:core:2.0:Group'],
      displayName: 'Eng',
    });
  });

  it('encodes ids into the path and list parameters into the query with %20', async () => {
    const { pool, client, calls } = setup();
    pool
      .intercept({ path: `${BASE_PATH}/Users/a%2Fb%20c%3F`, method: 'GET' })
      .reply(200, user('x'));
    await client.users.get('a/b c?');
    const filter = userEq('userName', 'a+b@example.com');
    const query = listQuery({ filter, startIndex: 1, count: 5, attributes: ['id', 'userName'] });
    expect(query).toBe(
      'filter=userName%20eq%20%22a%2Bb%40example.com%22&startIndex=1&count=5&attributes=id%2CuserName',
    );
    pool
      .intercept({ path: `${BASE_PATH}/Users?${query}`, method: 'GET' })
      .reply(200, list([user('1')]));
    const page = await client.users.list({
      filter,
      startIndex: 1,
      count: 5,
      attributes: ['id', 'userName'],
    });
    expect(page.Resources.map((u) => u.id)).toEqual(['1']);
    expect(calls.map((c) => c.route)).toEqual(['/Users/{id}', '/Users']);
    await expect(client.users.get('')).rejects.toThrow(TypeError);
    // Dot segments would climb out of {base}/Users/ once a server or proxy normalises the path.
    for (const id of ['.', '..']) {
      await expect(client.users.get(id)).rejects.toThrow(TypeError);
      await expect(client.groups.delete(id)).rejects.toThrow(TypeError);
    }
    expect(calls).toHaveLength(2);
  });

  it('accepts a base URL with a trailing slash', async () => {
    const { agent } = setup();
    const client = testScimClient(
      { baseUrl: `${ORIGIN}${BASE_PATH}/`, token: TOKEN },
      { dispatcher: agent },
    );
    agent
      .get(ORIGIN)
      .intercept({ path: `${BASE_PATH}/ServiceProviderConfig`, method: 'GET' })
      .reply(200, {
        patch: { supported: true },
        filter: { supported: true, maxResults: 1000 },
      });
    await expect(client.serviceProviderConfig()).resolves.toMatchObject({
      filter: { maxResults: 1000 },
    });
    await client.close();
  });

  it('refuses bad options without quoting the token', () => {
    expect(() => testScimClient({ baseUrl: 'keeper', token: TOKEN })).toThrow(TypeError);
    expect(() => testScimClient({ baseUrl: `${ORIGIN}?x=1`, token: TOKEN })).toThrow(TypeError);
    const bad = `${TOKEN}\r\n`;
    expect(() => testScimClient({ baseUrl: ORIGIN, token: bad })).toThrow(/control characters/);
    try {
      testScimClient({ baseUrl: ORIGIN, token: bad });
    } catch (error) {
      expect(inspect(error)).not.toContain(TOKEN);
    }
  });
});

describe('scim client responses', () => {
  it.each([
    ['application/scim+json', SCIM_JSON],
    ['application/json', { 'content-type': 'application/json; charset=utf-8' }],
    ['no content type', {}],
  ])('parses a 200 with %s as JSON', async (_, headers) => {
    const { pool, client } = setup();
    pool
      .intercept({ path: `${BASE_PATH}/Users/1`, method: 'GET' })
      .reply(200, JSON.stringify(user('1')), { headers });
    await expect(client.users.get('1')).resolves.toMatchObject({ id: '1', active: true });
  });

  it('turns numeric ids into strings', async () => {
    const { pool, client } = setup();
    pool
      .intercept({ path: `${BASE_PATH}/Users?startIndex=1`, method: 'GET' })
      .reply(200, list([user('1'), { ...user('2'), id: 2 }]));
    const page = await client.users.list({ startIndex: 1 });
    expect(page.Resources.map((u) => u.id)).toEqual(['1', '2']);
  });

  it('reports a non-JSON 200 as a protocol error that does not quote the body', async () => {
    const { pool, client } = setup();
    pool
      .intercept({ path: `${BASE_PATH}/Users/1`, method: 'GET' })
      .reply(200, '{"id":"1", secret-ish garbage', { headers: SCIM_JSON });
    const error = await client.users.get('1').catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ScimProtocolError);
    expect(error).toMatchObject({ code: 'UPSTREAM_PROTOCOL_ERROR', status: 200 });
    expect(inspect(error, { depth: 10 })).not.toContain('garbage');
  });

  it('reports an HTML 200 (a proxy login page) as a protocol error', async () => {
    const { pool, client, calls } = setup();
    pool
      .intercept({ path: `${BASE_PATH}/Users/1`, method: 'GET' })
      .reply(200, '<html>login</html>', { headers: { 'content-type': 'text/html' } });
    await expect(client.users.get('1')).rejects.toMatchObject({
      code: 'UPSTREAM_PROTOCOL_ERROR',
      message: expect.stringContaining('text/html is not JSON'),
    });
    // A protocol error is not retried.
    expect(calls).toHaveLength(1);
  });

  it('reports a wrong-shaped body as a protocol error naming the paths, not the values', async () => {
    const { pool, client } = setup();
    pool
      .intercept({ path: `${BASE_PATH}/Users/1`, method: 'GET' })
      .reply(200, { id: '1', userName: 42, mail: 'x@y.z' });
    const error = await client.users.get('1').catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ScimProtocolError);
    expect((error as Error).message).toContain('userName');
    expect((error as Error).message).not.toContain('x@y.z');
    pool
      .intercept({ path: `${BASE_PATH}/Users?count=1`, method: 'GET' })
      .reply(200, { Resources: [] });
    await expect(client.users.list({ count: 1 })).rejects.toMatchObject({
      code: 'UPSTREAM_PROTOCOL_ERROR',
      message: expect.stringContaining('totalResults'),
    });
  });

  it('reports an empty 200 where a resource is required as a protocol error', async () => {
    const { pool, client } = setup();
    pool.intercept({ path: `${BASE_PATH}/Users/1`, method: 'GET' }).reply(200, '');
    await expect(client.users.get('1')).rejects.toMatchObject({
      code: 'UPSTREAM_PROTOCOL_ERROR',
      message: expect.stringContaining('empty body'),
    });
  });

  it('resolves PATCH to the resource on 200 with a body, to undefined on 204 or an empty 200', async () => {
    const { pool, client } = setup();
    const path = `${BASE_PATH}/Users/1`;
    pool
      .intercept({ path, method: 'PATCH' })
      .reply(200, user('1', { active: false }), { headers: SCIM_JSON });
    pool.intercept({ path, method: 'PATCH' }).reply(204, '');
    pool.intercept({ path, method: 'PATCH' }).reply(200, '');
    await expect(client.users.patch('1', setActive(false))).resolves.toMatchObject({
      active: false,
    });
    await expect(client.users.patch('1', setActive(false))).resolves.toBeUndefined();
    await expect(client.users.patch('1', setActive(false))).resolves.toBeUndefined();
    await expect(client.users.patch('1', [])).rejects.toThrow(RangeError);
  });

  it('resolves DELETE to nothing on 204 and on 200 with a body', async () => {
    const { pool, client } = setup();
    pool.intercept({ path: `${BASE_PATH}/Groups/g1`, method: 'DELETE' }).reply(204, '');
    pool
      .intercept({ path: `${BASE_PATH}/Users/1`, method: 'DELETE' })
      .reply(200, user('1', { active: false }));
    await expect(client.groups.delete('g1')).resolves.toBeUndefined();
    await expect(client.users.delete('1')).resolves.toBeUndefined();
  });

  it('keeps scimType and detail from a JSON error body', async () => {
    const { pool, client } = setup();
    pool.intercept({ path: `${BASE_PATH}/Users`, method: 'POST' }).reply(
      409,
      {
        schemas: ['urn:ietf:params:scim:api:messages:2.0:Error'],
        status: '409',
        scimType: 'uniqueness',
        detail: 'Email already taken',
      },
      { headers: SCIM_JSON },
    );
    await expect(client.users.create({ userName: 'a@b.c' })).rejects.toMatchObject({
      code: 'SCIM_CONFLICT',
      scimType: 'uniqueness',
      detail: 'Email already taken',
    });
  });

  it('reads discovery lists as a ListResponse or as a bare array', async () => {
    const { pool, client } = setup();
    const rt = {
      id: 'User',
      name: 'User',
      endpoint: '/Users',
      schema: 'urn:ietf:params:scim:schemas:core:2.0:User',
    };
    pool.intercept({ path: `${BASE_PATH}/ResourceTypes`, method: 'GET' }).reply(200, list([rt]));
    pool.intercept({ path: `${BASE_PATH}/ResourceTypes`, method: 'GET' }).reply(200, [rt]);
    pool
      .intercept({ path: `${BASE_PATH}/Schemas`, method: 'GET' })
      .reply(200, list([{ id: 'urn:x', attributes: [] }]));
    await expect(client.resourceTypes()).resolves.toEqual([rt]);
    await expect(client.resourceTypes()).resolves.toEqual([rt]);
    await expect(client.schemas()).resolves.toMatchObject([{ id: 'urn:x' }]);
  });

  it('ignores a stats hook that throws', async () => {
    const { pool, client } = setup({
      onCall: () => {
        throw new Error('broken hook');
      },
    });
    pool.intercept({ path: `${BASE_PATH}/Users/1`, method: 'GET' }).reply(200, user('1'));
    await expect(client.users.get('1')).resolves.toMatchObject({ id: '1' });
  });

  it('reports to both the client-wide and the per-call hook', async () => {
    const { pool, client, calls } = setup();
    const mine: UpstreamCall[] = [];
    pool.intercept({ path: `${BASE_PATH}/Users/1`, method: 'GET' }).reply(404, '');
    await expect(client.users.get('1', { onCall: (c) => mine.push(c) })).rejects.toMatchObject({
      code: 'SCIM_NOT_FOUND',
    });
    expect(mine).toEqual(calls);
    expect(mine[0]).toMatchObject({
      method: 'GET',
      route: '/Users/{id}',
      status: 404,
      attempt: 1,
      errorCode: 'SCIM_NOT_FOUND',
    });
    expect(mine[0]?.durationMs).toBeGreaterThanOrEqual(0);
  });
});

describe('scim client cancellation and deadlines', () => {
  it('rejects with the caller’s abort reason, not an upstream error', async () => {
    const { pool, client, calls } = setup();
    pool
      .intercept({ path: `${BASE_PATH}/Users/1`, method: 'GET' })
      .reply(200, user('1'))
      .delay(10_000);
    const controller = new AbortController();
    const pending = client.users.get('1', { signal: controller.signal });
    setTimeout(() => controller.abort(), 5);
    const error = await pending.catch((e: unknown) => e);
    expect(error).toBeInstanceOf(DOMException);
    expect((error as DOMException).name).toBe('AbortError');
    expect(calls).toMatchObject([{ status: 0, errorCode: 'ABORTED' }]);
  });

  it('does not send anything for an already aborted signal', async () => {
    const { client, calls } = setup();
    const reason = new Error('gone');
    await expect(client.users.get('1', { signal: AbortSignal.abort(reason) })).rejects.toBe(reason);
    expect(calls).toEqual([]);
  });

  it('cancels the backoff wait when the caller aborts', async () => {
    const controller = new AbortController();
    const { pool, client, calls } = setup({
      retry: {
        minDelayMs: 1,
        sleep: (_ms, signal) =>
          new Promise((_, reject) => {
            controller.abort(new Error('cancelled while waiting'));
            reject(signal?.reason);
          }),
      },
    });
    pool.intercept({ path: `${BASE_PATH}/Users/1`, method: 'GET' }).reply(503, '');
    await expect(client.users.get('1', { signal: controller.signal })).rejects.toThrow(
      'cancelled while waiting',
    );
    expect(calls).toHaveLength(1);
  });

  it('fails a call past requestTimeoutMs as UPSTREAM_UNAVAILABLE with TIMEOUT', async () => {
    const { pool, client } = setup({ requestTimeoutMs: 20 });
    pool
      .intercept({ path: `${BASE_PATH}/Users/1`, method: 'GET' })
      .reply(200, user('1'))
      .delay(5_000);
    await expect(client.users.get('1')).rejects.toMatchObject({
      code: 'UPSTREAM_UNAVAILABLE',
      transportCode: 'TIMEOUT',
      status: 0,
    });
  });
});

describe('the token never leaks', () => {
  it('appears in no error, cause or call record', async () => {
    const { pool, client, calls } = setup({ requestTimeoutMs: 50 });
    const p = (s: string) => `${BASE_PATH}${s}`;
    pool.intercept({ path: p('/Users/401'), method: 'GET' }).reply(401, { detail: 'bad token' });
    pool.intercept({ path: p('/Users/404'), method: 'GET' }).reply(404, '');
    pool
      .intercept({ path: p('/Users'), method: 'POST' })
      .reply(428, { status: '428', detail: 'seats' });
    pool
      .intercept({ path: p('/Users/429'), method: 'GET' })
      .reply(429, '', { headers: { 'retry-after': '99' } });
    pool
      .intercept({ path: p('/Users/500'), method: 'GET' })
      .reply(500, 'x')
      .times(3);
    pool
      .intercept({ path: p('/Users/net'), method: 'GET' })
      .replyWithError(Object.assign(new Error('reset'), { code: 'ECONNRESET' }))
      .times(3);
    pool
      .intercept({ path: p('/Users/slow'), method: 'GET' })
      .reply(200, '')
      .delay(5_000);
    pool
      .intercept({ path: p('/Users/html'), method: 'GET' })
      .reply(200, '<html/>', { headers: { 'content-type': 'text/html' } });
    const attempts = [
      client.users.get('401'),
      client.users.get('404'),
      client.users.create({ userName: 'a@b.c' }),
      client.users.get('429'),
      client.users.get('500'),
      client.users.get('net'),
      client.users.get('slow'),
      client.users.get('html'),
    ];
    const errors = await Promise.all(
      attempts.map((a) =>
        a.then(
          () => undefined,
          (e: unknown) => e,
        ),
      ),
    );
    expect(errors.map((e) => (e as { code?: string }).code)).toEqual([
      'UPSTREAM_UNAUTHORIZED',
      'SCIM_NOT_FOUND',
      'SCIM_SEAT_LIMIT',
      'RATE_LIMITED',
      'UPSTREAM_UNAVAILABLE',
      'UPSTREAM_UNAVAILABLE',
      'UPSTREAM_UNAVAILABLE',
      'UPSTREAM_PROTOCOL_ERROR',
    ]);
    for (const error of errors) {
      const dumped = [
        inspect(error, { depth: Number.POSITIVE_INFINITY, showHidden: true }),
        JSON.stringify(error),
        JSON.stringify(error, Object.getOwnPropertyNames(error)),
        String((error as Error).stack),
      ].join('\n');
      expect(dumped).not.toContain(TOKEN);
      expect(dumped).not.toContain(TOKEN.slice(4, 24));
    }
    expect(JSON.stringify(calls)).not.toContain(TOKEN);
  });
});
