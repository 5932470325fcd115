import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Stack, startStack } from '../helpers.ts';

const LOCK = 'mutation { lockUser(input: { id: "VXNlcjozNDUwNzQ4NTI0Mjk4NDY=" }) { __typename } }';

describe('cross-site requests', () => {
  let stack: Stack;
  let portal: Stack;
  beforeAll(async () => {
    stack = await startStack();
    portal = await startStack({ env: { CORS_ORIGINS: 'https://portal.acme.example' } });
  });
  afterAll(async () => {
    await stack.close();
    await portal.close();
  });

  it('refuses a form POST that a foreign page could send without a preflight', async () => {
    const response = await stack.app.fetch('http://facade.test/graphql', {
      method: 'POST',
      headers: {
        origin: 'https://evil.example',
        'content-type': 'application/x-www-form-urlencoded',
      },
      body: `query=${encodeURIComponent(LOCK)}`,
    });
    expect(response.status).toBe(403);
    expect(stack.upstreamCalls()).toEqual([]);
    expect(stack.emulator.store.listUsers()[0]?.active).toBe(true);
  });

  it('accepts a GET query only with the CSRF header', async () => {
    const url = `http://facade.test/graphql?query=${encodeURIComponent('{ upstream { emulated } }')}`;
    expect((await stack.app.fetch(url, { headers: { accept: 'application/json' } })).status).toBe(
      403,
    );
    const ok = await stack.app.fetch(url, {
      headers: { accept: 'application/json', 'x-graphql-csrf': '1' },
    });
    expect(ok.status).toBe(200);
  });

  it('gives no CORS grant to other origins by default', async () => {
    const preflight = await stack.app.fetch('http://facade.test/graphql', {
      method: 'OPTIONS',
      headers: {
        origin: 'https://evil.example',
        'access-control-request-method': 'POST',
        'access-control-request-headers': 'content-type',
      },
    });
    expect(preflight.headers.get('access-control-allow-origin')).toBeNull();
  });

  it('grants CORS to the configured origins only', async () => {
    const ask = (origin: string) =>
      portal.app.fetch('http://facade.test/graphql', {
        method: 'OPTIONS',
        headers: {
          origin,
          'access-control-request-method': 'POST',
          'access-control-request-headers': 'content-type',
        },
      });
    expect(
      (await ask('https://portal.acme.example')).headers.get('access-control-allow-origin'),
    ).toBe('https://portal.acme.example');
    expect((await ask('https://evil.example')).headers.get('access-control-allow-origin')).not.toBe(
      'https://evil.example',
    );
  });
});
