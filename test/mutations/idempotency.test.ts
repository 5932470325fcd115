import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { createMemoryIdempotencyStore, fingerprint } from '../../src/idempotency.ts';
import { CreateUserDocument, LockUserDocument, UnlockUserDocument } from '../generated/graphql.ts';
import { type Stack, startStack } from '../helpers.ts';
import { nthUser, userGid, writes } from './helpers.ts';

describe('idempotency keys', () => {
  let stack: Stack;
  beforeAll(async () => {
    stack = await startStack();
  });
  afterAll(() => stack.close());
  beforeEach(() => {
    stack.emulator.faults.clear();
    stack.resetLog();
  });

  it('returns the first result for a repeated clientMutationId, writing once', async () => {
    const input = { userName: 'key.one@acme.example', clientMutationId: 'onboard-key-one' };
    const first = await stack.run(CreateUserDocument, { input });
    const second = await stack.run(CreateUserDocument, { input });
    expect(second.data).toMatchInlineSnapshot(`
      {
        "createUser": {
          "__typename": "CreateUserPayload",
          "clientMutationId": "onboard-key-one",
          "replayed": true,
          "user": {
            "__typename": "User",
            "active": true,
            "displayName": "key.one@acme.example",
            "externalId": null,
            "familyName": null,
            "givenName": null,
            "id": "VXNlcjozNDUwNzQ4NTI0MzAzNzI=",
            "keeperId": "345074852430372",
            "roles": {
              "edges": [],
            },
            "teams": {
              "edges": [],
            },
            "userName": "key.one@acme.example",
          },
        },
      }
    `);
    expect(first.data?.createUser).toEqual({ ...second.data?.createUser, replayed: false });
    expect(writes(stack)).toEqual(['POST /Users']);
  });

  it('takes the key from the Idempotency-Key header as well', async () => {
    const input = { userName: 'key.header@acme.example' };
    const headers = { 'idempotency-key': 'onboard-key-header' };
    await stack.run(CreateUserDocument, { input }, headers);
    const second = await stack.run(CreateUserDocument, { input }, headers);
    expect(second.data?.createUser).toMatchObject({ replayed: true, clientMutationId: null });
    expect(writes(stack)).toEqual(['POST /Users']);
  });

  it('answers IdempotencyKeyReusedError for the same key with another input, writing nothing', async () => {
    await stack.run(CreateUserDocument, {
      input: { userName: 'key.reuse@acme.example', clientMutationId: 'onboard-reuse' },
    });
    stack.resetLog();
    const other = await stack.run(CreateUserDocument, {
      input: { userName: 'someone.else@acme.example', clientMutationId: 'onboard-reuse' },
    });
    expect(other.data).toMatchInlineSnapshot(`
      {
        "createUser": {
          "__typename": "IdempotencyKeyReusedError",
          "key": "onboard-reuse",
          "message": "The idempotency key "onboard-reuse" was already used for createUser with a different input; use a new key for a new request.",
        },
      }
    `);
    expect(stack.upstreamCalls()).toEqual([]);
    expect(stack.emulator.store.findUserByUserName('someone.else@acme.example')).toBeUndefined();
  });

  it('lets concurrent duplicates wait for the first call: one write, one user', async () => {
    const input = { userName: 'key.race@acme.example', clientMutationId: 'onboard-race' };
    const results = await Promise.all(
      Array.from({ length: 5 }, () => stack.run(CreateUserDocument, { input })),
    );
    const payloads = results.map((r) => r.data?.createUser);
    expect(payloads.filter((p) => p?.__typename === 'CreateUserPayload')).toHaveLength(5);
    expect(payloads.filter((p) => p && 'replayed' in p && !p.replayed)).toHaveLength(1);
    expect(new Set(payloads.map((p) => (p && 'user' in p ? p.user.keeperId : null))).size).toBe(1);
    expect(writes(stack)).toEqual(['POST /Users']);
  });

  it('replays a typed error too', async () => {
    const input = { userName: 'thomas.brennan@acme.example', clientMutationId: 'onboard-taken' };
    const first = await stack.run(CreateUserDocument, { input });
    const second = await stack.run(CreateUserDocument, { input });
    expect(first.data?.createUser.__typename).toBe('EmailAlreadyInUseError');
    expect(second.data).toEqual(first.data);
    expect(writes(stack)).toEqual(['POST /Users']);
  });

  it('forgets a key whose call failed upstream, so the repeat runs', async () => {
    stack.emulator.faults.enqueue({ method: 'POST', path: '/Users', fault: 429 });
    const input = { userName: 'key.limited@acme.example', clientMutationId: 'onboard-limited' };
    const first = await stack.run(CreateUserDocument, { input });
    expect(first.errors?.[0]?.extensions?.['code']).toBe('RATE_LIMITED');
    const second = await stack.run(CreateUserDocument, { input });
    expect(second.data?.createUser).toMatchObject({
      __typename: 'CreateUserPayload',
      replayed: false,
    });
    expect(writes(stack)).toEqual(['POST /Users', 'POST /Users']);
  });

  it('scopes keys by mutation', async () => {
    const id = userGid(nthUser(stack, 7).id);
    const locked = await stack.run(LockUserDocument, { input: { id, clientMutationId: 'k' } });
    const unlocked = await stack.run(UnlockUserDocument, { input: { id, clientMutationId: 'k' } });
    expect([locked.data?.lockUser, unlocked.data?.unlockUser]).toMatchObject([
      { replayed: false, user: { active: false } },
      { replayed: false, user: { active: true } },
    ]);
    expect(writes(stack)).toHaveLength(2);
  });

  it('refuses a clientMutationId that differs from the Idempotency-Key header', async () => {
    const result = await stack.run(
      CreateUserDocument,
      { input: { userName: 'two.keys@acme.example', clientMutationId: 'a' } },
      { 'idempotency-key': 'b' },
    );
    expect(result.data).toMatchInlineSnapshot(`
      {
        "createUser": {
          "__typename": "InvalidInputError",
          "fields": [
            {
              "message": "differs from the Idempotency-Key header; send one key, or the same in both",
              "path": "input.clientMutationId",
            },
          ],
          "message": "Validation error: input.clientMutationId: differs from the Idempotency-Key header; send one key, or the same in both",
        },
      }
    `);
    expect(stack.upstreamCalls()).toEqual([]);
  });
});

describe('the in-memory idempotency store', () => {
  it('forgets finished keys after the TTL', async () => {
    let now = 0;
    const store = createMemoryIdempotencyStore({ ttlMs: 1000, now: () => now });
    expect(await store.begin('k', 'f')).toEqual({ state: 'new', previousUncertain: false });
    await store.finish('k', 'f', { kind: 'final', result: { ok: 1 } });
    now = 999;
    expect(await store.begin('k', 'f')).toEqual({
      state: 'done',
      fingerprint: 'f',
      result: { ok: 1 },
    });
    now = 1000;
    expect(await store.begin('k', 'f')).toEqual({ state: 'new', previousUncertain: false });
  });

  it('makes a second caller wait while the first runs, and releases on failure', async () => {
    const store = createMemoryIdempotencyStore({ ttlMs: 1000 });
    await store.begin('k', 'f');
    const waiting = await store.begin('k', 'f');
    if (waiting.state !== 'in-flight') throw new Error(waiting.state);
    let settled = false;
    const done = waiting.settled.then(() => {
      settled = true;
    });
    expect(settled).toBe(false);
    await store.finish('k', 'f', { kind: 'release' });
    await done;
    expect(await store.begin('k', 'f')).toEqual({ state: 'new', previousUncertain: false });
  });

  it('remembers an uncertain outcome for the next call with the same input only', async () => {
    const store = createMemoryIdempotencyStore({ ttlMs: 1000 });
    await store.begin('k', 'f');
    await store.finish('k', 'f', { kind: 'uncertain' });
    expect(await store.begin('k', 'g')).toMatchObject({ state: 'in-flight', fingerprint: 'f' });
    expect(await store.begin('k', 'f')).toEqual({ state: 'new', previousUncertain: true });
  });

  it('drops the oldest finished keys beyond maxEntries', async () => {
    const store = createMemoryIdempotencyStore({ ttlMs: 60_000, maxEntries: 2 });
    for (const key of ['a', 'b', 'c']) {
      await store.begin(key, 'f');
      await store.finish(key, 'f', { kind: 'final', result: key });
    }
    expect((await store.begin('a', 'f')).state).toBe('new');
    expect((await store.begin('c', 'f')).state).toBe('done');
  });

  it('fingerprints inputs regardless of key order', () => {
    expect(fingerprint({ a: 1, b: [1, { c: 2, d: 3 }] })).toBe(
      fingerprint({ b: [1, { d: 3, c: 2 }], a: 1 }),
    );
    expect(fingerprint({ a: 1 })).not.toBe(fingerprint({ a: 2 }));
  });
});
