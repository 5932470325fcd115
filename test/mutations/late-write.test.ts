import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CreateUserDocument } from '../generated/graphql.ts';
import { type Stack, startStack } from '../helpers.ts';
import { calls } from './helpers.ts';

// The hardest unknown outcome: the upstream is slow, the facade gives up waiting, and Keeper
// applies the create afterwards. The emulator's added latency delays the answer, not the work:
// a request whose client has gone is still applied once the latency has passed.

describe('a create applied after the facade gave up', () => {
  let stack: Stack;
  beforeAll(async () => {
    stack = await startStack({ client: { requestTimeoutMs: 250 } });
  });
  afterAll(() => stack.close());

  const stored = (userName: string) =>
    stack.emulator.store.listUsers().filter((u) => u.userName === userName);

  async function untilStored(userName: string) {
    for (let i = 0; i < 200 && stored(userName).length === 0; i++) {
      await new Promise((resolve) => setTimeout(resolve, 25));
    }
  }

  it('answers OutcomeUnknownError, then settles on the late user with the same key', async () => {
    const input = { userName: 'late.write@acme.example', clientMutationId: 'hr-late-1' };
    stack.resetLog();
    stack.emulator.faults.set({ latencyMs: 600 });
    const first = await stack.run(CreateUserDocument, { input });
    expect(first.data?.createUser).toMatchObject({ __typename: 'OutcomeUnknownError' });

    stack.emulator.faults.clear();
    await untilStored(input.userName);
    expect(stored(input.userName)).toHaveLength(1);
    // While the outcome was unknown nothing was sent twice: one POST, logged once it landed.
    expect(calls(stack).filter((c) => c.startsWith('POST'))).toEqual(['POST /Users 201']);

    stack.resetLog();
    const again = await stack.run(CreateUserDocument, { input });
    expect(again.data?.createUser).toMatchObject({
      __typename: 'CreateUserPayload',
      clientMutationId: 'hr-late-1',
      user: { userName: input.userName },
    });
    // The repeat looked first and did not write.
    expect(calls(stack).filter((c) => c.startsWith('POST'))).toEqual([]);
    expect(stored(input.userName)).toHaveLength(1);
  });

  it('without a key, a repeat is told the e-mail is taken rather than creating a second user', async () => {
    const input = { userName: 'late.nokey@acme.example' };
    stack.emulator.faults.set({ latencyMs: 600 });
    const first = await stack.run(CreateUserDocument, { input });
    expect(first.data?.createUser).toMatchObject({ __typename: 'OutcomeUnknownError' });
    stack.emulator.faults.clear();
    await untilStored(input.userName);

    const again = await stack.run(CreateUserDocument, { input });
    expect(again.data?.createUser).toMatchObject({ __typename: 'EmailAlreadyInUseError' });
    expect(stored(input.userName)).toHaveLength(1);
  });
});
