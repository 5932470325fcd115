import { createHash } from 'node:crypto';
import { encodeGlobalID } from '@pothos/plugin-relay';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AuditEvent } from '../../src/audit.ts';
import { type Stack, startStack } from '../helpers.ts';

// Each outcome of a mutation (success, typed error, upstream failure) and a refused attempt
// produce exactly one audit event with the right caller, in the sink (the log) and in the store
// that `auditEvents` reads.

const HR = 'hr-key-0123456789abcdef';
const READER = 'reader-key-0123456789abcd';
const AUDITOR = 'auditor-key-0123456789abc';
const file = [
  `hr ${['users:lifecycle', 'directory:read'].join(',')} sha256:${sha(HR)}`,
  `reader directory:read sha256:${sha(READER)}`,
  `auditor admin sha256:${sha(AUDITOR)}`,
].join('\n');

function sha(key: string) {
  return createHash('sha256').update(key).digest('hex');
}

describe('audit trail', () => {
  let stack: Stack;
  const logged: AuditEvent[] = [];
  beforeAll(async () => {
    const { writeFileSync, mkdtempSync } = await import('node:fs');
    const { join } = await import('node:path');
    const { tmpdir } = await import('node:os');
    const path = join(mkdtempSync(join(tmpdir(), 'audit-')), 'keys');
    writeFileSync(path, file);
    stack = await startStack({
      env: { API_KEYS_FILE: path },
      app: { audit: { sink: (event) => logged.push(event) } },
    });
  });
  afterAll(() => stack.close());

  const send = async (key: string, query: string, variables: object = {}, headers = {}) => {
    const response = await stack.app.fetch('http://facade.test/graphql', {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${key}`, ...headers },
      body: JSON.stringify({ query, variables }),
    });
    return (await response.json()) as {
      // biome-ignore lint/suspicious/noExplicitAny: answers of several shapes
      data?: any;
      errors?: { extensions?: { code?: string } }[];
    };
  };
  const LOCK = 'mutation($input: LockUserInput!) { lockUser(input: $input) { __typename } }';

  it('records success, typed error, upstream failure and forbidden once each', async () => {
    logged.length = 0;
    const user = stack.emulator.store.listUsers()[5];
    const gid = encodeGlobalID('User', user?.id as string);
    const missing = encodeGlobalID('User', '999999999');

    const ok = await send(
      HR,
      LOCK,
      { input: { id: gid, clientMutationId: 'k-1' } },
      { 'x-request-id': 'req-ok' },
    );
    expect(ok.data.lockUser.__typename).toBe('LockUserPayload');
    const notFound = await send(HR, LOCK, { input: { id: missing } });
    expect(notFound.data.lockUser.__typename).toBe('NotFoundError');
    stack.emulator.faults.enqueue({ fault: 503, times: 10 });
    const down = await send(HR, LOCK, { input: { id: gid } });
    stack.emulator.faults.clear();
    expect(down.errors?.[0]?.extensions?.code).toBe('UPSTREAM_UNAVAILABLE');
    const refused = await send(READER, LOCK, { input: { id: gid } });
    expect(refused.errors?.[0]?.extensions?.code).toBe('FORBIDDEN');
    await new Promise((resolve) => setImmediate(resolve));

    expect(logged.map((e) => [e.caller.name, e.operation, e.outcome])).toEqual([
      ['hr', 'lockUser', 'LockUserPayload'],
      ['hr', 'lockUser', 'NotFoundError'],
      ['hr', 'lockUser', 'UPSTREAM_UNAVAILABLE'],
      ['reader', 'lockUser', 'FORBIDDEN'],
    ]);
    expect(logged[0]).toMatchObject({
      caller: { kind: 'key', name: 'hr' },
      requestId: 'req-ok',
      input: { id: gid, clientMutationId: 'k-1' },
      upstream: [{ method: 'PATCH', route: '/Users/{id}', status: 200 }],
      objectIds: [gid],
      idempotencyKey: 'k-1',
    });
    expect(logged[1]?.upstream).toEqual([{ method: 'PATCH', route: '/Users/{id}', status: 404 }]);
    expect(logged[2]?.upstream.every((c) => c.status === 503)).toBe(true);
    expect(logged[3]?.upstream).toEqual([]);

    // The store answers admins, newest first, filtered.
    const trail = await send(
      AUDITOR,
      `query($filter: AuditEventFilter) { auditEvents(first: 10, filter: $filter) { edges { node { caller { name kind } operation outcome objectIds } } } }`,
      { filter: { objectId: gid, caller: 'hr' } },
    );
    expect(
      trail.data.auditEvents.edges.map((e: { node: { outcome: string } }) => e.node.outcome),
    ).toEqual(['UPSTREAM_UNAVAILABLE', 'LockUserPayload']);
    // …and refuses everyone else, which is itself recorded.
    const nosy = await send(HR, '{ auditEvents { hasNextPage } }');
    expect(nosy.errors?.[0]?.extensions?.code).toBe('FORBIDDEN');
    await new Promise((resolve) => setImmediate(resolve));
    expect(logged.at(-1)).toMatchObject({
      caller: { name: 'hr' },
      operation: 'auditEvents',
      outcome: 'FORBIDDEN',
    });
  });

  it('records only allow-listed input fields', async () => {
    logged.length = 0;
    await send(
      HR,
      'mutation($input: CreateUserInput!) { createUser(input: $input) { __typename } }',
      {
        input: { userName: 'audit.one@example.com', givenName: 'Au', familyName: 'Dit' },
      },
    );
    await new Promise((resolve) => setImmediate(resolve));
    expect(logged).toHaveLength(1);
    expect(logged[0]).toMatchObject({
      operation: 'createUser',
      outcome: 'CreateUserPayload',
      input: { userName: 'audit.one@example.com', givenName: 'Au', familyName: 'Dit' },
      omitted: [],
    });
    expect(logged[0]?.objectIds).toHaveLength(1);
  });

  it('records a 401 (no key, or a bad one) as an unauthenticated caller, without the key', async () => {
    logged.length = 0;
    const bad = 'not-a-known-key-0123456789';
    const refused = await send(bad, LOCK, { input: { id: 'x' } });
    expect(refused.errors?.[0]?.extensions?.code).toBe('UNAUTHENTICATED');
    const none = await stack.app.fetch('http://facade.test/graphql', {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ query: '{ __typename }' }),
    });
    expect(none.status).toBe(401);
    await new Promise((resolve) => setImmediate(resolve));
    expect(logged).toHaveLength(2);
    for (const event of logged) {
      expect(event).toMatchObject({
        caller: { kind: 'unauthenticated', name: 'unauthenticated' },
        outcome: 'UNAUTHENTICATED',
        input: {},
        upstream: [],
        objectIds: [],
      });
      expect(JSON.stringify(event)).not.toContain(bad);
      expect(JSON.stringify(event)).not.toContain(sha(bad));
    }
    const trail = await send(
      AUDITOR,
      '{ auditEvents(first: 2) { edges { node { caller { kind } outcome } } } }',
    );
    expect(trail.data.auditEvents.edges.map((e: { node: object }) => e.node)).toEqual([
      { caller: { kind: 'unauthenticated' }, outcome: 'UNAUTHENTICATED' },
      { caller: { kind: 'unauthenticated' }, outcome: 'UNAUTHENTICATED' },
    ]);
  });
});
