import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Stack, startStack } from '../helpers.ts';

// What production shows to whom: introspection off, upstream stats and the upstream's address
// only for callers who presented a key.

const KEY = 'portal-key-0123456789abcdef';

async function ask(stack: Stack, query: string, headers: Record<string, string> = {}) {
  const response = await stack.app.fetch('http://facade.test/graphql', {
    method: 'POST',
    headers: { 'content-type': 'application/json', 'x-upstream-stats': '1', ...headers },
    body: JSON.stringify({ query }),
  });
  return (await response.json()) as {
    data?: Record<string, unknown> | null;
    errors?: { message: string; extensions?: Record<string, unknown> }[];
    extensions?: Record<string, unknown>;
  };
}

describe('production without API keys (every caller anonymous)', () => {
  let stack: Stack;
  beforeAll(async () => {
    stack = await startStack({ env: { NODE_ENV: 'production' } });
  });
  afterAll(() => stack.close());

  it('refuses introspection with a stable code, before any upstream call', async () => {
    stack.resetLog();
    const result = await ask(stack, '{ __schema { types { name } } }');
    expect(result.data).toBeUndefined();
    expect(result.errors?.[0]?.extensions?.code).toBe('INTROSPECTION_DISABLED');
    const type = await ask(stack, '{ __type(name: "User") { fields { name } } }');
    expect(type.errors?.[0]?.extensions?.code).toBe('INTROSPECTION_DISABLED');
    expect(stack.upstreamCalls()).toEqual([]);
    // __typename is not introspection of the schema.
    expect((await ask(stack, '{ __typename }')).data).toEqual({ __typename: 'Query' });
  });

  it('ignores x-upstream-stats and hides the upstream address', async () => {
    const result = await ask(stack, '{ upstream { baseUrl nodeId emulated } }');
    expect(result.errors).toBeUndefined();
    expect(result.data).toEqual({ upstream: { baseUrl: null, nodeId: null, emulated: true } });
    expect(result.extensions?.upstream).toBeUndefined();
  });
});

describe('production with API keys', () => {
  let stack: Stack;
  beforeAll(async () => {
    stack = await startStack({ env: { NODE_ENV: 'production', API_KEYS: KEY } });
  });
  afterAll(() => stack.close());

  it('shows the stats and the upstream address to a keyed caller', async () => {
    const result = await ask(stack, '{ upstream { baseUrl nodeId } }', {
      authorization: `Bearer ${KEY}`,
    });
    expect(result.data).toEqual({
      upstream: { baseUrl: stack.emulator.baseUrl, nodeId: expect.stringMatching(/^\d+$/) },
    });
    expect(result.extensions?.upstream).toMatchObject({ calls: expect.any(Number) });
  });
});

describe('production settings', () => {
  it('GRAPHQL_INTROSPECTION=true and UPSTREAM_STATS_FOR=everyone open them again', async () => {
    const stack = await startStack({
      env: {
        NODE_ENV: 'production',
        GRAPHQL_INTROSPECTION: 'true',
        UPSTREAM_STATS_FOR: 'everyone',
      },
    });
    try {
      const result = await ask(stack, '{ __type(name: "User") { name } upstream { emulated } }');
      expect(result.data).toEqual({ __type: { name: 'User' }, upstream: { emulated: true } });
      expect(result.extensions?.upstream).toMatchObject({ calls: expect.any(Number) });
    } finally {
      await stack.close();
    }
  });

  it('UPSTREAM_STATS_FOR=nobody turns the header off even for keyed callers', async () => {
    const stack = await startStack({ env: { API_KEYS: KEY, UPSTREAM_STATS_FOR: 'nobody' } });
    try {
      const result = await ask(stack, '{ upstream { emulated } }', {
        authorization: `Bearer ${KEY}`,
      });
      expect(result.data).toEqual({ upstream: { emulated: true } });
      expect(result.extensions?.upstream).toBeUndefined();
    } finally {
      await stack.close();
    }
  });
});
