import { encodeGlobalID } from '@pothos/plugin-relay';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Stack, startStack } from '../helpers.ts';

// Input is bounded before it reaches the upstream: lookup and filter strings by length, Keeper ids
// by shape (so that nothing like `..` or `a/b` becomes part of a URL path), each refused with a
// BAD_USER_INPUT that names the argument and zero upstream calls.

type Result = {
  data?: Record<string, unknown> | null;
  errors?: { message: string; extensions?: Record<string, unknown> }[];
};

async function ask(stack: Stack, query: string, variables: Record<string, unknown> = {}) {
  const response = await stack.app.fetch('http://facade.test/graphql', {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ query, variables }),
  });
  return (await response.json()) as Result;
}

const long = (n: number) => 'a'.repeat(n);
const email = (n: number) => `${'a'.repeat(n - '@acme.example'.length)}@acme.example`;

describe('bounded input', () => {
  let stack: Stack;
  beforeAll(async () => {
    stack = await startStack();
  });
  afterAll(() => stack.close());

  const refused = async (query: string, variables: Record<string, unknown>, argument: string) => {
    stack.resetLog();
    const result = await ask(stack, query, variables);
    expect(result.errors?.[0]?.extensions).toMatchObject({ code: 'BAD_USER_INPUT', argument });
    expect(result.errors?.[0]?.message).toContain(argument.split('.').at(-1));
    expect(stack.upstreamCalls()).toEqual([]);
  };

  it.each([
    ['query($v: String!) { user(userName: $v) { id } }', email(255), 'userName'],
    ['query($v: String!) { user(externalId: $v) { id } }', long(257), 'externalId'],
    [
      'query($v: String!) { users(filter: { userName: $v }) { totalCount } }',
      email(255),
      'filter.userName',
    ],
    [
      'query($v: String!) { users(filter: { externalId: $v }) { totalCount } }',
      long(257),
      'filter.externalId',
    ],
    [
      'query($v: String!) { users(filter: { search: $v }) { totalCount } }',
      long(101),
      'filter.search',
    ],
    ['query($v: String!) { team(name: $v) { id } }', long(257), 'name'],
    ['query($v: String!) { teams(filter: { name: $v }) { totalCount } }', long(257), 'filter.name'],
    [
      'query($v: String!) { teams(filter: { nameContains: $v }) { totalCount } }',
      long(101),
      'filter.nameContains',
    ],
    [
      'query($v: String!) { teams(filter: { externalId: $v }) { totalCount } }',
      long(257),
      'filter.externalId',
    ],
    ['query($v: String!) { role(name: $v) { id } }', long(257), 'name'],
    ['query($v: String!) { roles(nameContains: $v) { totalCount } }', long(101), 'nameContains'],
  ])(
    '%s with a value over the limit: BAD_USER_INPUT, no upstream call',
    async (query, v, argument) => {
      await refused(query, { v }, argument);
    },
  );

  it('refuses a 10 MB userName without building a 10 MB upstream URL', async () => {
    await refused(
      'query($v: String!) { user(userName: $v) { id } }',
      { v: email(10_000_000) },
      'userName',
    );
  });

  it('accepts values at the limit', async () => {
    stack.resetLog();
    const result = await ask(
      stack,
      'query($e: String!, $x: String!, $s: String!) { user(userName: $e) { id } users(filter: { search: $s, externalId: $x }) { totalCount } }',
      { e: email(254), x: long(256), s: long(100) },
    );
    expect(result.errors).toBeUndefined();
    expect(result.data).toEqual({ user: null, users: { totalCount: 0 } });
  });

  const BAD_IDS = ['.', '..', '../..', 'a/b', '%2F', '..%2F..', '', ' 1', '1 ', '1?x=1', '1#x'];

  it.each(BAD_IDS)('user(keeperId: %j) is refused before any upstream call', async (id) => {
    await refused('query($v: String!) { user(keeperId: $v) { id } }', { v: id }, 'keeperId');
  });

  it.each(BAD_IDS)('team(keeperId: %j) and role(keeperId:) are refused', async (id) => {
    await refused('query($v: String!) { team(keeperId: $v) { id } }', { v: id }, 'keeperId');
    await refused('query($v: String!) { role(keeperId: $v) { id } }', { v: id }, 'keeperId');
  });

  it.each(BAD_IDS)(
    'a global id wrapping %j is refused in node, nodes and user(id:)',
    async (id) => {
      const gid = encodeGlobalID('User', id);
      for (const query of [
        'query($v: ID!) { node(id: $v) { id } }',
        'query($v: ID!) { nodes(ids: [$v]) { id } }',
        'query($v: ID!) { user(id: $v) { id } }',
      ]) {
        stack.resetLog();
        const result = await ask(stack, query, { v: gid });
        expect(result.errors?.[0]?.extensions?.code).toBe('BAD_USER_INPUT');
        expect(stack.upstreamCalls()).toEqual([]);
      }
    },
  );

  it('refuses a global id of a type that does not exist, and one that is not a global id', async () => {
    for (const gid of [encodeGlobalID('Admin', '1'), 'not-an-id', '']) {
      stack.resetLog();
      const result = await ask(stack, 'query($v: ID!) { node(id: $v) { id } }', { v: gid });
      expect(result.errors?.[0]?.extensions?.code).toBe('BAD_USER_INPUT');
      expect(stack.upstreamCalls()).toEqual([]);
    }
  });

  it('refuses ids of the wrong shape in a mutation as InvalidInputError, writing nothing', async () => {
    stack.resetLog();
    const result = await ask(
      stack,
      'mutation($v: ID!) { lockUser(input: { id: $v }) { __typename ... on InvalidInputError { fields { path message } } } }',
      { v: encodeGlobalID('User', '..') },
    );
    expect(result.data).toEqual({
      lockUser: {
        __typename: 'InvalidInputError',
        fields: [expect.objectContaining({ path: 'input' })],
      },
    });
    expect(stack.upstreamCalls()).toEqual([]);
  });

  it('still serves well-formed ids', async () => {
    const [user] = stack.emulator.store.listUsers();
    const team = stack.emulator.store.listGroups().find((g) => !g.displayName.startsWith('ROLE_'));
    const result = await ask(
      stack,
      'query($u: String!, $t: String!, $g: ID!) { user(keeperId: $u) { keeperId } team(keeperId: $t) { keeperId } node(id: $g) { id } }',
      { u: user?.id, t: team?.id, g: encodeGlobalID('User', user?.id ?? '') },
    );
    expect(result.errors).toBeUndefined();
    expect(result.data).toMatchObject({
      user: { keeperId: user?.id },
      team: { keeperId: team?.id },
    });
  });
});

describe.each<Record<string, string>>([
  { KEEPER_ID_FORMAT: 'relaxed' },
  // `auto` (the default) is relaxed for an upstream that is not Keeper.
  { SCIM_UPSTREAM_KIND: 'scim' },
])('relaxed ids for an RFC upstream with UUID ids (%o)', (env) => {
  let stack: Stack;
  beforeAll(async () => {
    stack = await startStack({ env });
  });
  afterAll(() => stack.close());

  it('sends a UUID upstream and still refuses dot segments and slashes', async () => {
    stack.resetLog();
    const uuid = '2819c223-7f76-453a-919d-413861904646';
    const result = await ask(stack, 'query($v: String!) { user(keeperId: $v) { id } }', {
      v: uuid,
    });
    expect(result).toMatchObject({ data: { user: null } });
    expect(stack.upstreamCalls().map((c) => c.path)).toEqual([
      expect.stringMatching(new RegExp(`/Users/${uuid}$`)),
    ]);
    for (const id of ['.', '..', 'a/b', '%2F', '']) {
      stack.resetLog();
      const refused = await ask(stack, 'query($v: String!) { user(keeperId: $v) { id } }', {
        v: id,
      });
      expect(refused.errors?.[0]?.extensions).toMatchObject({
        code: 'BAD_USER_INPUT',
        argument: 'keeperId',
      });
      expect(stack.upstreamCalls()).toEqual([]);
    }
  });
});
