import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { growUsers } from '../../src/emulator/seed.ts';
import { NodesDocument, TeamsWithMembersDocument, UserPageDocument } from '../generated/graphql.ts';
import { type Stack, startStack } from '../helpers.ts';

// The lookup plan (src/directory/reads/plan.ts) as the facade runs it: upstream calls from the emulator's log,
// dependent rounds from extensions.upstream.rounds.

const globalId = (id: string) => Buffer.from(`User:${id}`).toString('base64');

describe('a scan the scan limit forbids', () => {
  let stack: Stack;
  beforeAll(async () => {
    // The demo node has 520 users; the probe at start counted them.
    stack = await startStack({ env: { UPSTREAM_SCAN_LIMIT: '100' } });
  });
  afterAll(() => stack.close());

  it('fails at once, before any upstream call, when the user count already says so', async () => {
    stack.resetLog();
    const result = await stack.run(UserPageDocument, { first: 5, filter: { active: false } });
    expect(result.errors?.[0]?.extensions?.code).toBe('SCAN_LIMIT_EXCEEDED');
    expect(stack.upstreamCalls()).toEqual([]);
  });

  it('answers team members from Group.members with GETs instead of a forbidden scan', async () => {
    stack.resetLog();
    const result = await stack.run(TeamsWithMembersDocument, { first: 5, members: 5 });
    expect(result.errors).toBeUndefined();
    for (const { node } of result.data?.teams.edges ?? []) {
      const expected = stack.emulator.store.membersOf(node.keeperId);
      expect(node.members?.edges.map((e) => e.node.keeperId)).toEqual(expected.slice(0, 5));
    }
    expect(result.extensions?.upstream?.batches.map((b) => b.strategy)).toEqual(['get']);
    expect(stack.upstreamCalls().filter((c) => c.path.startsWith('/Users?'))).toEqual([]);
  });
});

describe('the plan on a 5 000-user node', () => {
  let stack: Stack;
  beforeAll(async () => {
    stack = await startStack();
    growUsers(stack.emulator.store, 5_000);
    // An unfiltered page tells the facade the node's new size.
    await stack.run(UserPageDocument, { first: 1 });
  });
  afterAll(() => stack.close());

  it('loads 50 users by id with 50 GETs in one round, not ten pages of 500', async () => {
    const users = stack.emulator.store
      .listUsers()
      .filter((_, i) => i % 97 === 0)
      .slice(0, 50);
    stack.resetLog();
    const result = await stack.run(NodesDocument, { ids: users.map((u) => globalId(u.id)) });
    expect(result.data?.nodes.map((n) => (n && 'keeperId' in n ? n.keeperId : null))).toEqual(
      users.map((u) => u.id),
    );
    expect(result.extensions?.upstream?.batches).toEqual([
      { loader: 'userById', keys: 50, strategy: 'get' },
    ]);
    expect(stack.upstreamCalls()).toHaveLength(50);
    expect(result.extensions?.upstream?.rounds).toBe(1);
  });
});

describe.each([
  { name: 'Group members included', groupMembers: undefined },
  { name: 'Group members omitted', groupMembers: 'omit' as const },
])('dependent rounds ($name)', ({ groupMembers }) => {
  let stack: Stack;
  beforeAll(async () => {
    stack = await startStack({ emulator: groupMembers ? { groupMembers } : {} });
  });
  afterAll(() => stack.close());

  it('answers teams with their members in at most two dependent rounds', async () => {
    stack.resetLog();
    const result = await stack.run(TeamsWithMembersDocument, { first: 20, members: 20 });
    expect(result.errors).toBeUndefined();
    expect(result.extensions?.upstream?.rounds).toBeLessThanOrEqual(2);
    expect(stack.upstreamCalls().length).toBeLessThanOrEqual(3);
  });
});
