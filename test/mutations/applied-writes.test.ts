import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mapLimit } from '../../src/directory/reads/env.ts';
import {
  AddTeamMembersReadBackDocument,
  CreateTeamReadBackDocument,
  CreateUserReadBackDocument,
} from '../generated/graphql.ts';
import type { GraphQLResponse, Stack } from '../helpers.ts';
import { startStack } from '../helpers.ts';
import { teamGid, userGid } from './helpers.ts';

// "Failed" must mean "not written": 1,000 creates (users and teams) and 1,000 addTeamMembers under
// a seeded mix of faults on every request, the reads that build the payload after the write
// included. Whatever answer says failed (a top-level error, or a typed error other than
// OutcomeUnknownError) must be about a write that did not happen; an answer that says done must
// name the written object.

// The full matrix against the Keeper profile; a quarter of it against the generic RFC server the
// mutation suite also runs on (vitest project rfc-strict), where each call makes more reads.
const SHARE = process.env['TEST_UPSTREAM_PROFILE'] === 'rfc-strict' ? 4 : 1;
const CREATES = 500 / SHARE; // users, and as many teams
const ADDS = 1_000 / SHARE;

const tally = (values: string[]) =>
  Object.fromEntries([...new Set(values)].map((v) => [v, values.filter((x) => x === v).length]));

type Outcome = { kind: 'done' | 'unknown' | 'failed'; why?: string; path?: string };

function outcome(
  result: GraphQLResponse<Record<string, { __typename: string } | null>>,
  field: string,
  payload: string,
): Outcome {
  const answer = result.data?.[field];
  if (answer?.__typename === payload) return { kind: 'done' };
  if (answer?.__typename === 'OutcomeUnknownError') return { kind: 'unknown' };
  return {
    kind: 'failed',
    why: answer?.__typename ?? String(result.errors?.[0]?.extensions?.['code']),
  };
}

describe('writes that were applied are never reported as failed', () => {
  let stack: Stack;
  beforeAll(async () => {
    stack = await startStack({
      emulator: { seed: 'demo', seats: 5_000 },
      env: { UPSTREAM_MAX_RETRIES: '2' },
    });
  });
  afterAll(() => stack.close());

  const faults = {
    seed: 11,
    rate503: 0.03,
    rate500: 0.01,
    rate429: 0.01,
    rateResetBeforeApply: 0.02,
    rateResetAfterApply: 0.02,
  };

  it('creates of users and teams: every failed answer is for an object that does not exist', async () => {
    const { store } = stack.emulator;
    const teams = store.listTeams();
    const users = store.listUsers();
    stack.emulator.faults.set(faults);
    const jobs = Array.from({ length: CREATES * 2 }, (_, i) => i);
    const results = await mapLimit(jobs, 8, async (i) => {
      const n = i >> 1;
      if (i % 2 === 0) {
        const userName = `applied.${n}@acme.example`;
        const team = teams[n % teams.length];
        const result = await stack.run(CreateUserReadBackDocument, {
          input: { userName, teamIds: team ? [teamGid(team.id)] : [] },
        });
        const o = outcome(result, 'createUser', 'CreateUserPayload');
        const data = result.data?.createUser;
        return {
          ...o,
          exists: store.findUserByUserName(userName) !== undefined,
          idOk:
            o.kind !== 'done' ||
            (data?.__typename === 'CreateUserPayload' &&
              data.user.keeperId === store.findUserByUserName(userName)?.id),
        };
      }
      const name = `Applied team ${n}`;
      const member = users[n % users.length];
      const result = await stack.run(CreateTeamReadBackDocument, {
        input: { name, memberIds: member ? [userGid(member.id)] : [] },
      });
      const o = outcome(result, 'createTeam', 'CreateTeamPayload');
      const data = result.data?.createTeam;
      const stored = store.listTeams().filter((t) => t.displayName === name);
      return {
        ...o,
        exists: stored.length > 0,
        idOk:
          o.kind !== 'done' ||
          (data?.__typename === 'CreateTeamPayload' &&
            stored.length === 1 &&
            data.team.keeperId === stored[0]?.id),
      };
    });
    stack.emulator.faults.clear();

    const failedButExists = results.filter((r) => r.kind === 'failed' && r.exists);
    const doneButWrong = results.filter((r) => r.kind === 'done' && (!r.exists || !r.idOk));
    const tally = (values: string[]) =>
      Object.fromEntries(
        [...new Set(values)].map((v) => [v, values.filter((x) => x === v).length]),
      );
    console.log(
      'creates under faults:',
      JSON.stringify({
        outcomes: tally(results.map((r) => r.kind)),
        failedBecause: tally(results.flatMap((r) => (r.why ? [r.why] : []))),
        injected: tally(
          stack.emulator.log.entries.flatMap((e) => (e.fault ? [String(e.fault)] : [])),
        ),
      }),
    );
    expect(failedButExists).toEqual([]);
    expect(doneButWrong).toEqual([]);
    // The faults hit the reads after the writes too, and most calls still succeeded.
    expect(results.filter((r) => r.kind === 'done').length).toBeGreaterThan(CREATES * 2 * 0.8);
    expect(stack.masked).toEqual([]);
  }, 120_000);

  it('addTeamMembers: every failed answer is for a membership that was not added', async () => {
    const { store } = stack.emulator;
    const teams = store.listTeams();
    const users = store.listUsers();
    // Each call adds one user to one team; no pair is asked twice, and none is a member yet.
    const pairs: { teamId: string; userId: string }[] = [];
    for (let i = 0; pairs.length < ADDS; i++) {
      const team = teams[i % teams.length];
      const user = users[(i * 7) % users.length];
      if (!team || !user) continue;
      if (store.membersOf(team.id).includes(user.id)) continue;
      if (pairs.some((p) => p.teamId === team.id && p.userId === user.id)) continue;
      pairs.push({ teamId: team.id, userId: user.id });
    }
    stack.emulator.faults.set({ ...faults, seed: 12 });
    const results = await mapLimit(pairs, 8, async ({ teamId, userId }) => {
      const result = await stack.run(AddTeamMembersReadBackDocument, {
        input: { teamId: teamGid(teamId), userIds: [userGid(userId)] },
      });
      return {
        ...outcome(result, 'addTeamMembers', 'AddTeamMembersPayload'),
        added: store.membersOf(teamId).includes(userId),
        teamId: (result.data?.addTeamMembers as { team?: { keeperId: string } } | undefined)?.team
          ?.keeperId,
        expectedTeamId: teamId,
      };
    });
    stack.emulator.faults.clear();
    console.log(
      'addTeamMembers under faults:',
      JSON.stringify({
        outcomes: tally(results.map((r) => r.kind)),
        failedBecause: tally(results.flatMap((r) => (r.why ? [r.why] : []))),
      }),
    );

    expect(results.filter((r) => r.kind === 'failed' && r.added)).toEqual([]);
    const done = results.filter((r) => r.kind === 'done');
    expect(done.filter((r) => !r.added || r.teamId !== r.expectedTeamId)).toEqual([]);
    expect(done.length).toBeGreaterThan(ADDS * 0.8);
    expect(stack.masked).toEqual([]);
  }, 120_000);
});

describe('a membership change whose every answer was lost', () => {
  let stack: Stack;
  beforeAll(async () => {
    stack = await startStack({ emulator: { seed: 'demo' } });
  });
  afterAll(() => stack.close());

  function newPair() {
    const { store } = stack.emulator;
    for (const team of store.listTeams()) {
      const user = store.listUsers().find((u) => !store.membersOf(team.id).includes(u.id));
      if (user) return { teamId: team.id, userId: user.id };
    }
    throw new Error('no free pair');
  }
  const add = (pair: { teamId: string; userId: string }) =>
    stack.run(AddTeamMembersReadBackDocument, {
      input: { teamId: teamGid(pair.teamId), userIds: [userGid(pair.userId)] },
    });

  it('is done when reading the team shows it applied', async () => {
    const pair = newPair();
    stack.emulator.faults.enqueue({
      method: 'PATCH',
      path: `/Groups/${pair.teamId}`,
      fault: 'reset-after-apply',
      times: 3,
    });
    const result = await add(pair);
    expect(result.data?.addTeamMembers).toMatchObject({
      __typename: 'AddTeamMembersPayload',
      team: { keeperId: pair.teamId },
    });
    expect(stack.emulator.store.membersOf(pair.teamId)).toContain(pair.userId);
  });

  it('is done when a lost answer is followed by a 429 that ends the retries', async () => {
    const pair = newPair();
    const path = `/Groups/${pair.teamId}`;
    stack.emulator.faults.enqueue({ method: 'PATCH', path, fault: 'reset-after-apply' });
    stack.emulator.faults.enqueue({ method: 'PATCH', path, fault: 429, retryAfterSeconds: 30 });
    const result = await add(pair);
    expect(result.data?.addTeamMembers).toMatchObject({
      __typename: 'AddTeamMembersPayload',
      team: { keeperId: pair.teamId },
    });
    expect(stack.emulator.store.membersOf(pair.teamId)).toContain(pair.userId);
  });

  it('stays RATE_LIMITED when Keeper refused the only attempt', async () => {
    const pair = newPair();
    const path = `/Groups/${pair.teamId}`;
    stack.emulator.faults.enqueue({ method: 'PATCH', path, fault: 429, retryAfterSeconds: 30 });
    const result = await add(pair);
    expect(result.errors?.[0]?.extensions?.['code']).toBe('RATE_LIMITED');
    expect(stack.emulator.store.membersOf(pair.teamId)).not.toContain(pair.userId);
  });

  it('is OutcomeUnknownError when that read fails too', async () => {
    const pair = newPair();
    stack.emulator.faults.enqueue({
      method: 'PATCH',
      path: `/Groups/${pair.teamId}`,
      fault: 'reset-after-apply',
      times: 3,
    });
    stack.emulator.faults.enqueue({
      method: 'GET',
      path: `/Groups/${pair.teamId}`,
      fault: 503,
      times: 3,
    });
    const result = await add(pair);
    expect(result.data?.addTeamMembers).toMatchObject({ __typename: 'OutcomeUnknownError' });
    expect(stack.emulator.store.membersOf(pair.teamId)).toContain(pair.userId);
  });

  it('stays a failure when the team shows it was not applied', async () => {
    const pair = newPair();
    stack.emulator.faults.enqueue({
      method: 'PATCH',
      path: `/Groups/${pair.teamId}`,
      fault: 'reset-before-apply',
      times: 3,
    });
    const result = await add(pair);
    expect(result.data).toBeNull();
    expect(result.errors?.[0]?.extensions?.['code']).toBe('UPSTREAM_UNAVAILABLE');
    expect(stack.emulator.store.membersOf(pair.teamId)).not.toContain(pair.userId);
  });
});
