import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  TeamNamesDocument,
  TeamsWithMembersDocument,
  UsersAndTeamMembersDocument,
  UsersWithTeamsAndRolesDocument,
} from '../generated/graphql.ts';
import { type Stack, startStack } from '../helpers.ts';

// The facade reads only what the query selects: group names do not pull every membership.

const groupsCalls = (stack: Stack) =>
  stack.upstreamCalls().filter((c) => c.path.startsWith('/Groups'));

describe('reads by selection (Group members included upstream)', () => {
  let stack: Stack;
  beforeAll(async () => {
    stack = await startStack();
  });
  afterAll(() => stack.close());

  it('reads the Groups without members for users with their teams and roles', async () => {
    stack.resetLog();
    const result = await stack.run(UsersWithTeamsAndRolesDocument, { first: 10 });
    expect(result.errors).toBeUndefined();
    expect(groupsCalls(stack).map((c) => decodeURIComponent(c.path))).toEqual([
      '/Groups?startIndex=1&count=500&excludedAttributes=members',
    ]);
    expect(result.extensions?.upstream?.rounds).toBe(1);
  });

  it('reads the Groups without members for team and role names', async () => {
    stack.resetLog();
    const result = await stack.run(TeamNamesDocument);
    expect(result.errors).toBeUndefined();
    expect(groupsCalls(stack).map((c) => c.path)).toEqual([
      '/Groups?startIndex=1&count=500&excludedAttributes=members',
    ]);
  });

  it('reads the Groups once, with members, when a selected field needs them', async () => {
    stack.resetLog();
    const result = await stack.run(TeamsWithMembersDocument, { first: 5, members: 5 });
    expect(result.errors).toBeUndefined();
    expect(groupsCalls(stack).map((c) => c.path)).toEqual(['/Groups?startIndex=1&count=500']);
  });

  it('reads the Groups once for two root fields when one of them needs members', async () => {
    stack.resetLog();
    const result = await stack.run(UsersAndTeamMembersDocument);
    expect(result.errors).toBeUndefined();
    expect(groupsCalls(stack)).toHaveLength(1);
    for (const { node } of result.data?.teams.edges ?? []) {
      const team = stack.emulator.store.listTeams().find((t) => t.displayName === node.name);
      expect(node.members?.totalCount).toBe(stack.emulator.store.membersOf(team?.id ?? '').length);
    }
  });
});

describe('reads by selection (Group members omitted upstream)', () => {
  let stack: Stack;
  beforeAll(async () => {
    stack = await startStack({ emulator: { groupMembers: 'omit' } });
  });
  afterAll(() => stack.close());

  it('starts the user scan for membership alongside the Groups read: one round', async () => {
    // The first membership question shows the facade that Groups carry no members (a read
    // without members could not tell).
    await stack.run(TeamsWithMembersDocument, { first: 1, members: 1 });
    stack.resetLog();
    const result = await stack.run(TeamsWithMembersDocument, { first: 5, members: 5 });
    expect(result.errors).toBeUndefined();
    expect(result.extensions?.upstream?.rounds).toBe(1);
    expect(stack.upstreamCalls()).toHaveLength(3);
  });
});
