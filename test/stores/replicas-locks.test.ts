import { encodeGlobalID } from '@pothos/plugin-relay';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { redisAvailable } from '../redis.ts';
import { type Replicas, startReplicas, useReplicasOnRedis } from './replicas.ts';

// Read-then-write mutations under concurrency: 50 setTeamMembers on one team, each asking for
// {common, u_i}. Without a per-group lock each computes its difference from a stale read and the
// team ends with members nobody asked for; with it the team ends with exactly one caller's set.

const SET_MEMBERS = `mutation ($input: SetTeamMembersInput!) {
  setTeamMembers(input: $input) { __typename }
}`;

async function race(stack: Replicas) {
  const users = stack.emulator.store.listUsers().slice(0, 51);
  const team = stack.emulator.store.createTeam({ displayName: 'Contended', externalId: 'c-1' });
  const common = users[0]?.id ?? '';
  const answers = await Promise.all(
    users.slice(1).map((u, i) =>
      stack.replicas[i % stack.replicas.length]?.run(SET_MEMBERS, {
        input: {
          teamId: encodeGlobalID('Team', team.id),
          userIds: [common, u.id].map((id) => encodeGlobalID('User', id)),
        },
      }),
    ),
  );
  const final = stack.emulator.store.membersOf(team.id).sort();
  const asked = users.slice(1).map((u) => [common, u.id].sort());
  return { answers, final, asked };
}

describe('50 concurrent setTeamMembers in one process (in-memory locks)', () => {
  let stack: Replicas;
  beforeAll(async () => {
    stack = await startReplicas({ count: 1, env: {} });
  });
  afterAll(() => stack?.close());

  it("ends with exactly one caller's set", async () => {
    const { answers, final, asked } = await race(stack);
    expect(answers.map((a) => a?.data)).toEqual(
      answers.map(() => ({ setTeamMembers: { __typename: 'SetTeamMembersPayload' } })),
    );
    expect(asked).toContainEqual(final);
  });
});

describe.runIf(redisAvailable)('50 concurrent setTeamMembers split across replicas', () => {
  const replicas = useReplicasOnRedis();

  it("ends with exactly one caller's set", async () => {
    const stack = await replicas.start({ count: 2 });
    const { answers, final, asked } = await race(stack);
    expect(answers.map((a) => a?.data)).toEqual(
      answers.map(() => ({ setTeamMembers: { __typename: 'SetTeamMembersPayload' } })),
    );
    expect(asked).toContainEqual(final);
  });

  it('refuses a group write with SHARED_STATE_UNAVAILABLE while Redis is down, writing nothing', async () => {
    const stack = await replicas.start({ count: 1 });
    const { redis } = replicas;
    const [user] = stack.emulator.store.listUsers();
    const team = stack.emulator.store.createTeam({ displayName: 'Locked out', externalId: 'l-1' });
    await redis.stop();
    try {
      stack.emulator.log.clear();
      const answer = await stack.replicas[0]?.run(SET_MEMBERS, {
        input: {
          teamId: encodeGlobalID('Team', team.id),
          userIds: [encodeGlobalID('User', user?.id ?? '')],
        },
      });
      expect(answer?.errors?.[0]?.extensions).toEqual({
        code: 'SHARED_STATE_UNAVAILABLE',
        retryable: true,
      });
      expect(stack.emulator.log.entries).toEqual([]);
    } finally {
      await redis.start();
    }
  });
});
