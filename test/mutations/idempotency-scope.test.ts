import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { LockUserDocument } from '../generated/graphql.ts';
import { type Stack, startStack } from '../helpers.ts';
import { nthUser, userGid, writes } from './helpers.ts';

// Idempotency keys belong to the caller that sent them (its API key's digest, or "anonymous"), so
// one caller can neither replay another's stored answer nor block its key; and keys are bounded.

const PORTAL = 'portal-key-0123456789abcdef';
const BACKEND = 'backend-key-fedcba9876543210';

describe('idempotency keys per caller', () => {
  let stack: Stack;
  beforeAll(async () => {
    stack = await startStack({ env: { API_KEYS: `${PORTAL},${BACKEND}` } });
  });
  afterAll(() => stack.close());
  beforeEach(() => stack.resetLog());

  const lock = (key: string, n: number, clientMutationId: string) =>
    stack.run(
      LockUserDocument,
      { input: { id: userGid(nthUser(stack, n).id), clientMutationId } },
      { authorization: `Bearer ${key}` },
    );

  it('lets two callers use the same key for different inputs, each replaying only its own', async () => {
    const portal = await lock(PORTAL, 3, 'shared-key-1');
    expect(portal.data?.lockUser).toMatchObject({ __typename: 'LockUserPayload', replayed: false });
    // Before: IdempotencyKeyReusedError, the backend blocked by the portal's key.
    const backend = await lock(BACKEND, 4, 'shared-key-1');
    expect(backend.data?.lockUser).toMatchObject({
      __typename: 'LockUserPayload',
      replayed: false,
    });
    expect(writes(stack)).toHaveLength(2);

    stack.resetLog();
    expect((await lock(PORTAL, 3, 'shared-key-1')).data?.lockUser).toMatchObject({
      replayed: true,
    });
    expect((await lock(BACKEND, 4, 'shared-key-1')).data?.lockUser).toMatchObject({
      replayed: true,
    });
    expect(writes(stack)).toEqual([]);
  });

  it("never replays another caller's stored answer for the same key and input", async () => {
    await lock(PORTAL, 5, 'shared-key-2');
    stack.resetLog();
    const backend = await lock(BACKEND, 5, 'shared-key-2');
    expect(backend.data?.lockUser).toMatchObject({
      __typename: 'LockUserPayload',
      replayed: false,
    });
    expect(writes(stack)).toHaveLength(1);
  });

  it('refuses keys that are too long or hold other than printable ASCII, writing nothing', async () => {
    for (const key of ['x'.repeat(256), 'two words', 'line\nbreak', 'ünïcode', '']) {
      stack.resetLog();
      const result = await lock(PORTAL, 6, key);
      expect(result.data?.lockUser).toMatchObject({ __typename: 'InvalidInputError' });
      expect(stack.upstreamCalls()).toEqual([]);
    }
    const header = await stack.run(
      LockUserDocument,
      { input: { id: userGid(nthUser(stack, 6).id) } },
      { authorization: `Bearer ${PORTAL}`, 'idempotency-key': 'x'.repeat(300) },
    );
    expect(header.data?.lockUser).toMatchObject({ __typename: 'InvalidInputError' });
    expect(writes(stack)).toEqual([]);
  });
});
