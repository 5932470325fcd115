import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Stack, startStack } from '../helpers.ts';

async function ask(stack: Stack, query: string) {
  const response = await stack.app.fetch('http://facade.test/graphql', {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ query }),
  });
  return (await response.json()) as {
    data?: unknown;
    errors?: { message: string; extensions?: Record<string, unknown> }[];
  };
}

describe('query limits', () => {
  let stack: Stack;
  beforeAll(async () => {
    stack = await startStack();
  });
  afterAll(() => stack.close());

  it('serves the largest canonical page: 100 users with 20 teams and roles each', async () => {
    stack.resetLog();
    const result = await ask(
      stack,
      '{ users(first: 100) { edges { node { id userName displayName active teams(first: 20) { edges { node { name } } } roles(first: 20) { edges { node { name } } } } } } }',
    );
    expect(result.errors).toBeUndefined();
  });

  it('refuses page sizes that multiply into too much work, before any upstream call', async () => {
    stack.resetLog();
    const result = await ask(
      stack,
      '{ users(first: 100) { edges { node { teams(first: 100) { edges { node { members(first: 100) { edges { node { userName } } } } } } } } } }',
    );
    expect(result.errors?.[0]).toMatchObject({
      message: expect.stringMatching(/^This query's complexity is \d+, above the limit of 50000/),
      extensions: { code: 'QUERY_TOO_COMPLEX', kind: 'complexity', max: 50_000 },
    });
    expect(stack.upstreamCalls()).toEqual([]);
  });

  it('weighs the same document again by its variables', async () => {
    const query =
      'query($n: Int) { users(first: $n) { edges { node { teams(first: $n) { edges { node { members(first: $n) { totalCount } } } } } } } }';
    const ask = async (n: number) => {
      const response = await stack.app.fetch('http://facade.test/graphql', {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ query, variables: { n } }),
      });
      return (await response.json()) as { errors?: { extensions?: Record<string, unknown> }[] };
    };
    for (const [n, refused] of [
      [5, false],
      [100, true],
      [5, false],
      [100, true],
      [60, true],
    ] as const) {
      stack.resetLog();
      const result = await ask(n);
      if (refused) {
        expect(stack.upstreamCalls()).toEqual([]);
        expect(result.errors?.[0]?.extensions).toMatchObject({
          code: 'QUERY_TOO_COMPLEX',
          kind: 'complexity',
          max: 50_000,
        });
      } else expect(result.errors).toBeUndefined();
    }
    stack.resetLog();
  });

  it('refuses too many aliases', async () => {
    const aliases = Array.from({ length: 40 }, (_, i) => `a${i}: upstream { nodeId }`).join(' ');
    const result = await ask(stack, `{ ${aliases} }`);
    expect(result.errors?.[0]?.message).toMatch(/aliases/i);
    expect(stack.upstreamCalls()).toEqual([]);
  });
});
