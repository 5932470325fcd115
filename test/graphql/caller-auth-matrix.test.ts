import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Stack, startStack } from '../helpers.ts';

// Every way a request without a key could reach the executor: GET and POST, each Accept a client
// or a browser may send, with and without the CSRF header. None may get data or cause an upstream
// call; the GraphiQL page is the only thing served without a key, and only when it is enabled.

const KEY = 'portal-key-0123456789abcdef';
const QUERY = '{ users(first: 100) { edges { node { userName } } } }';
const ACCEPTS = [
  undefined,
  'text/html',
  'text/html, application/json',
  'text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8',
  'application/json',
  'application/graphql-response+json',
  '*/*',
  'text/event-stream',
  'multipart/mixed',
];

type Variant = { method: 'GET' | 'POST'; accept: string | undefined; csrf: boolean };
const variants: Variant[] = (['GET', 'POST'] as const).flatMap((method) =>
  ACCEPTS.flatMap((accept) => [true, false].map((csrf) => ({ method, accept, csrf }))),
);

function send(stack: Stack, v: Variant, extra: Record<string, string> = {}) {
  const headers: Record<string, string> = { ...extra };
  if (v.accept !== undefined) headers.accept = v.accept;
  if (v.csrf) headers['x-graphql-csrf'] = '1';
  if (v.method === 'GET') {
    const url = `http://facade.test/graphql?query=${encodeURIComponent(QUERY)}`;
    return stack.app.fetch(url, { headers });
  }
  return stack.app.fetch('http://facade.test/graphql', {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...headers },
    body: JSON.stringify({ query: QUERY }),
  });
}

describe.each<{ name: string; env: Record<string, string> }>([
  { name: 'production, GraphiQL off', env: { NODE_ENV: 'production' } },
  { name: 'production, GraphiQL forced on', env: { NODE_ENV: 'production', GRAPHIQL: 'true' } },
  { name: 'development', env: { NODE_ENV: 'development' } },
])('caller authentication has no bypass ($name)', ({ env }) => {
  let stack: Stack;
  beforeAll(async () => {
    stack = await startStack({ env: { ...env, API_KEYS: KEY } });
  });
  afterAll(() => stack.close());

  it.each(variants)(
    '$method, Accept $accept, CSRF header $csrf: no data, no upstream call',
    async (v) => {
      stack.resetLog();
      const response = await send(stack, v);
      const body = await response.text();
      expect(stack.upstreamCalls()).toEqual([]);
      if (response.status === 200) {
        // Only the GraphiQL page (which executes nothing by itself) may answer without a key.
        expect(response.headers.get('content-type')).toContain('text/html');
        expect(body).toMatch(/^\s*<!doctype html>/i);
        expect(v.method).toBe('GET');
      } else {
        expect(JSON.parse(body)).not.toHaveProperty('data');
        expect([401, 403, 405, 406]).toContain(response.status);
      }
    },
  );

  it.each(variants.filter((v) => v.csrf))(
    '$method, Accept $accept with the key: served',
    async (v) => {
      stack.resetLog();
      const response = await send(stack, v, { authorization: `Bearer ${KEY}` });
      if (response.status === 200 && response.headers.get('content-type')?.includes('text/html')) {
        return; // GraphiQL answered the browser; covered above.
      }
      if (response.status === 406) return; // an Accept Yoga cannot answer for a query
      expect(response.status).toBe(200);
      expect(await response.text()).toContain('acme.example');
    },
  );
});

describe('the GraphiQL page without a key', () => {
  let stack: Stack;
  beforeAll(async () => {
    stack = await startStack({ env: { API_KEYS: KEY, GRAPHIQL: 'true' } });
  });
  afterAll(() => stack.close());

  it('is served when GraphiQL is enabled, and runs nothing', async () => {
    const page = await stack.app.fetch('http://facade.test/graphql', {
      headers: { accept: 'text/html' },
    });
    expect(page.status).toBe(200);
    expect(page.headers.get('content-type')).toContain('text/html');
    expect(stack.upstreamCalls()).toEqual([]);
  });

  it('is refused when GraphiQL is off', async () => {
    const off = await startStack({ env: { API_KEYS: KEY, GRAPHIQL: 'false' } });
    try {
      const page = await off.app.fetch('http://facade.test/graphql', {
        headers: { accept: 'text/html' },
      });
      expect(page.status).toBe(401);
      expect(off.upstreamCalls()).toEqual([]);
    } finally {
      await off.close();
    }
  });
});
