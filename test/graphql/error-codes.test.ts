import { readFileSync } from 'node:fs';
import { encodeGlobalID } from '@pothos/plugin-relay';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ERROR_CODES } from '../../src/error-codes.ts';
import { type Stack, startStack } from '../helpers.ts';

// Every error a caller can get carries a stable extensions.code, every code is in the README's
// errors table, and the request-level refusals (CSRF, malformed JSON, armor limits) say what to do.

type Answer = {
  status: number;
  body: {
    data?: Record<string, unknown> | null;
    errors?: { message: string; extensions?: Record<string, unknown> }[];
  };
};

async function send(stack: Stack, init: RequestInit & { url?: string }): Promise<Answer> {
  const response = await stack.app.fetch(init.url ?? 'http://facade.test/graphql', init);
  return { status: response.status, body: await response.json() };
}

const json = (body: unknown, headers: Record<string, string> = {}) => ({
  method: 'POST',
  headers: { 'content-type': 'application/json', ...headers },
  body: typeof body === 'string' ? body : JSON.stringify(body),
});

const aliases = (n: number) =>
  `{ ${Array.from({ length: n }, (_, i) => `a${i}: upstream { nodeId }`).join(' ')} }`;
const directives = (n: number) => `{ __typename ${'@skip(if: false) '.repeat(n)}}`;
const tokens = (n: number) => `{ ${'__typename '.repeat(n)}}`;

describe('stable error codes', () => {
  let stack: Stack;
  beforeAll(async () => {
    stack = await startStack({ env: { NODE_ENV: 'production' } });
  });
  afterAll(() => stack.close());

  const cases: [string, RequestInit & { url?: string }, string][] = [
    ['malformed JSON', json('{"query": "{ __typename'), 'BAD_REQUEST'],
    ['a body that is not an object', json('[1]'), 'BAD_REQUEST'],
    ['no query', json({}), 'BAD_REQUEST'],
    ['a syntax error', json({ query: '{ users(first: 1) {' }), 'GRAPHQL_PARSE_FAILED'],
    ['an unknown field', json({ query: '{ nope }' }), 'GRAPHQL_VALIDATION_FAILED'],
    [
      'introspection in production',
      json({ query: '{ __schema { types { name } } }' }),
      'INTROSPECTION_DISABLED',
    ],
    ['too many aliases', json({ query: aliases(31) }), 'QUERY_TOO_COMPLEX'],
    ['too many directives', json({ query: directives(60) }), 'QUERY_TOO_COMPLEX'],
    ['too many tokens', json({ query: tokens(5_001) }), 'QUERY_TOO_COMPLEX'],
    [
      'page sizes that multiply',
      json({
        query:
          '{ users(first: 100) { edges { node { teams(first: 100) { edges { node { members(first: 100) { totalCount } } } } } } } }',
      }),
      'QUERY_TOO_COMPLEX',
    ],
    [
      'a variable of the wrong type',
      json({ query: 'query($n: Int) { users(first: $n) { totalCount } }', variables: { n: 'x' } }),
      'BAD_USER_INPUT',
    ],
    [
      'a missing required variable',
      json({ query: 'query($n: Int!) { users(first: $n) { totalCount } }' }),
      'BAD_USER_INPUT',
    ],
    ['first over 100', json({ query: '{ users(first: 101) { totalCount } }' }), 'BAD_USER_INPUT'],
    ['an invalid global id', json({ query: '{ node(id: "not-an-id") { id } }' }), 'BAD_USER_INPUT'],
    [
      'a form POST without the CSRF header',
      {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
        body: 'query=%7B__typename%7D',
      },
      'CSRF_HEADER_REQUIRED',
    ],
    [
      'a GET without the CSRF header',
      {
        url: 'http://facade.test/graphql?query=%7B__typename%7D',
        headers: { accept: 'application/json' },
      },
      'CSRF_HEADER_REQUIRED',
    ],
    [
      'a mutation over GET',
      {
        url: `http://facade.test/graphql?query=${encodeURIComponent('mutation { lockUser(input: { id: "x" }) { __typename } }')}`,
        headers: { accept: 'application/json', 'x-graphql-csrf': '1' },
      },
      'BAD_REQUEST',
    ],
    [
      'a Content-Length over the body limit',
      json({ query: '{ __typename }' }, { 'content-length': '25000001' }),
      'REQUEST_ENTITY_TOO_LARGE',
    ],
    [
      'a malformed Content-Length',
      json({ query: '{ __typename }' }, { 'content-length': '12, 12' }),
      'BAD_REQUEST',
    ],
    [
      'a PUT',
      { method: 'PUT', headers: { 'content-type': 'application/json' }, body: '{}' },
      'BAD_REQUEST',
    ],
  ];

  it.each(cases.map(([name, init, code]) => ({ name, init, code })))(
    '$name: $code, no upstream call',
    async ({ init, code }) => {
      stack.resetLog();
      const { body } = await send(stack, init);
      expect(body.errors?.length).toBeGreaterThan(0);
      for (const error of body.errors ?? []) expect(error.extensions?.code).toBe(code);
      expect(stack.upstreamCalls()).toEqual([]);
    },
  );

  it('names the header a CSRF refusal needs', async () => {
    const { status, body } = await send(stack, cases[14]?.[1] as RequestInit);
    expect(status).toBe(403);
    expect(body.errors?.[0]).toEqual({
      message:
        'This request could come from a cross-site form or link: send the header x-graphql-csrf (any value), or POST with content-type: application/json.',
      extensions: { code: 'CSRF_HEADER_REQUIRED', header: 'x-graphql-csrf' },
    });
  });

  it('says which armor limit was hit, and does not echo a malformed body', async () => {
    const limit = await send(stack, json({ query: aliases(31) }));
    expect(limit.body.errors?.[0]).toMatchObject({
      message: 'Aliases limit of 30 exceeded, found 31.',
      extensions: { code: 'QUERY_TOO_COMPLEX', kind: 'aliases', max: 30, value: 31 },
    });
    const tokenLimit = await send(stack, json({ query: tokens(5_001) }));
    expect(tokenLimit.body.errors?.[0]?.extensions).toEqual({
      code: 'QUERY_TOO_COMPLEX',
      kind: 'tokens',
      max: 5_000,
    });
    const malformed = await send(stack, json('{"query": "secret-looking-input'));
    expect(malformed.body.errors?.[0]?.extensions).toEqual({ code: 'BAD_REQUEST' });
    expect(JSON.stringify(malformed.body)).not.toContain('secret-looking-input');
  });

  it('answers both aliases of the same node', async () => {
    const [user] = stack.emulator.store.listUsers();
    const id = encodeGlobalID('User', user?.id ?? '');
    const { body } = await send(
      stack,
      json({
        query: `{ a: node(id: "${id}") { id } b: node(id: "${id}") { id } c: nodes(ids: ["${id}"]) { id } }`,
      }),
    );
    expect(body.errors).toBeUndefined();
    expect(body.data).toEqual({ a: { id }, b: { id }, c: [{ id }] });
  });

  it('lists every code in the README errors table', () => {
    const readme = readFileSync(new URL('../../README.md', import.meta.url), 'utf8');
    const table = readme.slice(readme.indexOf('### Errors'), readme.indexOf('### Limits'));
    const documented = new Set([...table.matchAll(/^\| `([A-Z_]+)` \|/gm)].map((m) => m[1]));
    expect([...ERROR_CODES].filter((code) => !documented.has(code))).toEqual([]);
    for (const [, , code] of cases) expect(ERROR_CODES).toContain(code);
  });
});
