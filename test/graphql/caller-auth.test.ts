import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Stack, startStack } from '../helpers.ts';

const KEY = 'portal-key-0123456789abcdef';
const OTHER = 'backend-key-fedcba9876543210';

describe('caller authentication (API_KEYS)', () => {
  let stack: Stack;
  beforeAll(async () => {
    stack = await startStack({ env: { API_KEYS: `${KEY}, ${OTHER}` } });
  });
  afterAll(() => stack.close());

  const ask = (headers: Record<string, string>) =>
    stack.app.fetch('http://facade.test/graphql', {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...headers },
      body: JSON.stringify({ query: '{ users(first: 1) { totalCount } }' }),
    });

  it('refuses a request without a key, or with a wrong one, before any upstream call', async () => {
    stack.resetLog();
    const attempts: Record<string, string>[] = [
      {},
      { authorization: 'Bearer not-a-key-0123456789' },
      { authorization: KEY },
    ];
    for (const headers of attempts) {
      const response = await ask(headers);
      expect(response.status).toBe(401);
      expect(response.headers.get('www-authenticate')).toBe('Bearer');
      expect(await response.json()).toEqual({
        errors: [
          {
            message: 'This service needs an API key: send Authorization: Bearer <key>.',
            extensions: { code: 'UNAUTHENTICATED' },
          },
        ],
      });
    }
    expect(stack.upstreamCalls()).toEqual([]);
  });

  it('serves a request with any of the keys', async () => {
    for (const key of [KEY, OTHER]) {
      const response = await ask({ authorization: `Bearer ${key}` });
      expect(response.status).toBe(200);
      expect(((await response.json()) as { data: unknown }).data).toEqual({
        users: { totalCount: 520 },
      });
    }
  });

  it('leaves the GraphiQL page, /health and /ready open', async () => {
    const page = await stack.app.fetch('http://facade.test/graphql', {
      headers: { accept: 'text/html' },
    });
    expect(page.status).toBe(200);
    expect((await stack.app.fetch('http://facade.test/health')).status).toBe(200);
    expect((await stack.app.fetch('http://facade.test/ready')).status).toBe(200);
  });
});
