import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { encodeGlobalID } from '@pothos/plugin-relay';
import {
  type GraphQLField,
  type GraphQLInputType,
  getNamedType,
  getNullableType,
  isCompositeType,
  isEnumType,
  isInputObjectType,
  isListType,
  isNonNullType,
  isScalarType,
} from 'graphql';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createCallerAuth, keyFileEntry } from '../../src/caller-auth.ts';
import { loadConfig, type Scope } from '../../src/config.ts';
import { requiredScope } from '../../src/schema/access.ts';
import { schema } from '../../src/schema/index.ts';
import { type Stack, startStack } from '../helpers.ts';

// Every root field needs exactly one scope; a caller without it gets FORBIDDEN naming the scope,
// before any input is decoded or validated and before any upstream call. The operations are
// generated from the schema, so a field added later without a scope fails here.

const KEYS: Record<string, { key: string; scopes: Scope[] }> = {
  reader: { key: 'reader-key-0123456789abcdef', scopes: ['directory:read'] },
  writer: { key: 'writer-key-0123456789abcdef', scopes: ['directory:read', 'directory:write'] },
  lifecycle: { key: 'lifecycle-key-0123456789abcd', scopes: ['users:lifecycle'] },
  auditor: { key: 'auditor-key-0123456789abcdef', scopes: ['admin'] },
};
const PLAIN = 'plain-key-0123456789abcdef';

/** A value of `type` that passes GraphQL validation (not necessarily the schema's zod rules). */
function sample(type: GraphQLInputType): unknown {
  const inner = getNullableType(type);
  if (isListType(inner)) return [sample(inner.ofType)];
  if (isInputObjectType(inner)) {
    return Object.fromEntries(
      Object.values(inner.getFields())
        .filter((f) => isNonNullType(f.type))
        .map((f) => [f.name, sample(f.type)]),
    );
  }
  if (isEnumType(inner)) return inner.getValues()[0]?.value;
  if (isScalarType(inner)) {
    if (inner.name === 'ID') return encodeGlobalID('User', 'no-such-user');
    if (inner.name === 'Boolean') return true;
    if (inner.name === 'Int') return 1;
    return 'nobody@example.com';
  }
  throw new Error(`no sample for ${String(type)}`);
}

/** One operation calling `field` with its required arguments as variables. */
function operationFor(kind: 'query' | 'mutation', field: GraphQLField<unknown, unknown>) {
  const required = field.args.filter((a) => isNonNullType(a.type));
  const variables = Object.fromEntries(required.map((a) => [a.name, sample(a.type)]));
  const declared = required.map((a) => `$${a.name}: ${String(a.type)}`).join(', ');
  const passed = required.map((a) => `${a.name}: $${a.name}`).join(', ');
  const selection = isCompositeType(getNamedType(field.type)) ? ' { __typename }' : '';
  return {
    query: `${kind}${declared ? `(${declared})` : ''} { ${field.name}${passed ? `(${passed})` : ''}${selection} }`,
    variables,
  };
}

const rootFields = (['query', 'mutation'] as const).flatMap((kind) => {
  const type = kind === 'query' ? schema.getQueryType() : schema.getMutationType();
  return Object.values(type?.getFields() ?? {}).map((field) => ({
    kind,
    name: field.name,
    field,
    scope: requiredScope(field),
  }));
});

describe('scopes on root fields', () => {
  let stack: Stack;
  let dir: string;
  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'keys-'));
    const file = join(dir, 'keys');
    writeFileSync(
      file,
      [
        '# named keys, as npm run new-key prints them',
        ...Object.entries(KEYS).map(([name, k]) => keyFileEntry(name, k.scopes, k.key)),
        '',
      ].join('\n'),
    );
    stack = await startStack({ env: { API_KEYS_FILE: file, API_KEYS: PLAIN } });
  });
  afterAll(async () => {
    await stack.close();
    rmSync(dir, { recursive: true, force: true });
  });

  const send = async (key: string, op: { query: string; variables: unknown }) => {
    const response = await stack.app.fetch('http://facade.test/graphql', {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${key}` },
      body: JSON.stringify(op),
    });
    return (await response.json()) as {
      data?: unknown;
      errors?: { message: string; extensions?: { code?: string; missingScopes?: string[] } }[];
    };
  };

  it('gives every root field one scope, named in its description', () => {
    expect(rootFields.length).toBeGreaterThan(20);
    for (const { kind, name, field, scope } of rootFields) {
      expect(scope, `${kind} ${name}`).toBeDefined();
      expect(field.description).toContain(`Needs the \`${scope}\` scope.`);
    }
    const byScope: Record<string, typeof rootFields> = {};
    for (const f of rootFields)
      byScope[f.scope ?? 'none'] = [...(byScope[f.scope ?? 'none'] ?? []), f];
    expect(Object.keys(byScope).sort()).toEqual([
      'admin',
      'directory:read',
      'directory:write',
      'users:lifecycle',
    ]);
    expect(byScope['users:lifecycle']?.map((f) => f.name).sort()).toEqual([
      'createUser',
      'deprovisionUser',
      'lockUser',
      'replaceUser',
      'unlockUser',
      'updateUser',
    ]);
  });

  it.each(rootFields)('refuses $kind $name without its scope, with no upstream call', async (f) => {
    const without = Object.entries(KEYS).find(([, k]) => !k.scopes.includes(f.scope as Scope));
    if (!without) throw new Error(`every key has ${f.scope}`);
    const [name, { key }] = without;
    stack.resetLog();
    const body = await send(key, operationFor(f.kind, f.field));
    // Nullable fields answer null beside the error, non-null ones null the whole data.
    expect(Object.values(body.data ?? {}).filter((v) => v !== null)).toEqual([]);
    expect(body.errors).toEqual([
      {
        message: `${f.kind === 'query' ? 'Query' : 'Mutation'}.${f.name} needs the \`${f.scope}\` scope, which the key "${name}" does not have.`,
        extensions: { code: 'FORBIDDEN', missingScopes: [f.scope] },
      },
    ]);
    expect(stack.upstreamCalls()).toEqual([]);
  });

  it.each(rootFields.filter((f) => f.kind === 'query'))(
    'serves query $name to a key with its scope, and to a plain key',
    async (f) => {
      const [, { key }] = Object.entries(KEYS).find(([, k]) =>
        k.scopes.includes(f.scope as Scope),
      ) as [string, { key: string }];
      for (const k of [key, PLAIN]) {
        const body = await send(k, operationFor(f.kind, f.field));
        expect(body.errors?.map((e) => e.extensions?.code) ?? []).not.toContain('FORBIDDEN');
      }
    },
  );

  it('reports upstream stats (x-upstream-stats) only to callers with admin', async () => {
    const ask = async (key: string) => {
      const response = await stack.app.fetch('http://facade.test/graphql', {
        method: 'POST',
        headers: {
          'content-type': 'application/json',
          authorization: `Bearer ${key}`,
          'x-upstream-stats': '1',
        },
        body: JSON.stringify({ query: '{ users(first: 1) { totalCount } }' }),
      });
      return (await response.json()) as { extensions?: { upstream?: unknown } };
    };
    expect((await ask(KEYS.reader?.key as string)).extensions?.upstream).toBeUndefined();
    expect((await ask(PLAIN)).extensions?.upstream).toMatchObject({ calls: 1 });
  });

  it('answers FORBIDDEN, not InvalidInputError, to invalid input from a caller without the scope', async () => {
    const lock = {
      query:
        'mutation($input: LockUserInput!) { lockUser(input: $input) { __typename ... on InvalidInputError { fields { path } } } }',
      variables: { input: { id: 'not-a-global-id' } },
    };
    stack.resetLog();
    const refused = await send(KEYS.reader?.key as string, lock);
    expect(refused.errors?.[0]?.extensions?.code).toBe('FORBIDDEN');
    const allowed = await send(KEYS.lifecycle?.key as string, lock);
    expect(allowed.data).toEqual({
      lockUser: { __typename: 'InvalidInputError', fields: [{ path: 'input' }] },
    });
    expect(stack.upstreamCalls()).toEqual([]);
  });

  it('keeps idempotency keys per caller: the same key from two callers is two keys', async () => {
    const users = stack.emulator.store.listUsers();
    const lock = (key: string, n: number) =>
      send(key, {
        query:
          'mutation($input: LockUserInput!) { lockUser(input: $input) { __typename ... on LockUserPayload { replayed user { keeperId } } } }',
        variables: {
          input: {
            id: encodeGlobalID('User', users[n]?.id as string),
            clientMutationId: 'same-key',
          },
        },
      });
    const first = await lock(KEYS.lifecycle?.key as string, 10);
    const other = await lock(PLAIN, 11);
    const again = await lock(KEYS.lifecycle?.key as string, 10);
    expect([first.data, other.data, again.data]).toEqual([
      {
        lockUser: {
          __typename: 'LockUserPayload',
          replayed: false,
          user: { keeperId: users[10]?.id },
        },
      },
      {
        lockUser: {
          __typename: 'LockUserPayload',
          replayed: false,
          user: { keeperId: users[11]?.id },
        },
      },
      {
        lockUser: {
          __typename: 'LockUserPayload',
          replayed: true,
          user: { keeperId: users[10]?.id },
        },
      },
    ]);
  });

  it('runs a mutation for a key with its scope', async () => {
    const user = stack.emulator.store.listUsers()[3];
    const body = await send(KEYS.lifecycle?.key as string, {
      query:
        'mutation($input: LockUserInput!) { lockUser(input: $input) { __typename ... on LockUserPayload { user { active } } } }',
      variables: { input: { id: encodeGlobalID('User', user?.id as string) } },
    });
    expect(body.data).toEqual({
      lockUser: { __typename: 'LockUserPayload', user: { active: false } },
    });
  });
});

describe('API_KEYS_FILE', () => {
  const entry = keyFileEntry('portal', ['directory:read'], 'portal-key-0123456789abcdef');

  it('holds a key digest, never the key', () => {
    expect(entry).toMatch(/^portal directory:read sha256:[0-9a-f]{64}$/);
    expect(entry).not.toContain('portal-key');
  });

  it('reads named entries beside plain keys, and reports every bad line', () => {
    const config = loadConfig({ API_KEYS_FILE: '/keys' }, () =>
      [entry, 'legacy-key-0123456789abcdef', '# comment', ''].join('\n'),
    );
    expect(config.server.namedKeys).toEqual([
      { name: 'portal', scopes: ['directory:read'], sha256: entry.split('sha256:')[1] },
    ]);
    expect(config.server.apiKeys).toEqual(['legacy-key-0123456789abcdef']);
    expect(() =>
      loadConfig({ API_KEYS_FILE: '/keys' }, () =>
        [
          `a directory:reed sha256:${'0'.repeat(64)}`,
          'b admin sha256:xyz',
          entry,
          entry.replace('directory:read', 'admin'),
        ].join('\n'),
      ),
    ).toThrow(
      /line 1: unknown scope directory:reed[\s\S]*line 2: the digest must be 64 hex digits[\s\S]*line 4: the name portal is used twice/,
    );
  });

  it('swaps keys in place (what SIGHUP does), keeping the caller of a request already identified', async () => {
    const other = 'other-key-0123456789abcdef';
    const auth = createCallerAuth({ keys: [other], graphiql: false, endpoint: '/graphql' });
    const request = (key: string) =>
      new Request('http://facade.test/graphql', { headers: { authorization: `Bearer ${key}` } });
    expect(await auth.identify(request('portal-key-0123456789abcdef'))).toBeUndefined();
    const before = request('portal-key-0123456789abcdef');
    auth.setKeys({
      plain: [other],
      named: [
        { name: 'portal', scopes: ['directory:read'], sha256: entry.split('sha256:')[1] as string },
      ],
    });
    expect(await auth.identify(before)).toMatchObject({ kind: 'key', name: 'portal' });
    auth.setKeys({ plain: [other], named: [] });
    expect(await auth.identify(request('portal-key-0123456789abcdef'))).toBeUndefined();
    expect(await auth.identify(before)).toMatchObject({ name: 'portal' });
  });
});
