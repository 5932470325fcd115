import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  NodesDocument,
  SameUserTwiceDocument,
  TeamsWithMembersDocument,
  UsersWithTeamsAndRolesDocument,
} from '../generated/graphql.ts';
import { type Stack, startStack } from '../helpers.ts';

// Upstream call counts for the canonical questions, read from the emulator's request log
// (docs/design.md "What is measured"), against the pessimistic Keeper (eq-only filters), a full RFC
// 7644 server, and an upstream whose Group resources carry no `members`.
const setups: { name: string; emulator: { profile: 'keeper' | 'rfc'; groupMembers?: 'omit' } }[] = [
  { name: 'keeper profile', emulator: { profile: 'keeper' } },
  { name: 'rfc profile', emulator: { profile: 'rfc' } },
  {
    name: 'keeper profile, Group members omitted',
    emulator: { profile: 'keeper', groupMembers: 'omit' },
  },
  {
    name: 'rfc profile, Group members omitted',
    emulator: { profile: 'rfc', groupMembers: 'omit' },
  },
];

describe.each(setups)('batching ($name)', ({ emulator }) => {
  let stack: Stack;
  beforeAll(async () => {
    stack = await startStack({ emulator });
  });
  afterAll(() => stack.close());

  it('answers a page of users with their teams and roles in the same two calls for 10 and 100 users', async () => {
    const counts: number[] = [];
    for (const first of [10, 100]) {
      stack.resetLog();
      const result = await stack.run(UsersWithTeamsAndRolesDocument, { first });
      expect(result.errors).toBeUndefined();
      expect(result.data?.users.edges).toHaveLength(first);
      counts.push(stack.upstreamCalls().length);
      expect(result.extensions?.upstream?.calls).toBe(stack.upstreamCalls().length);
    }
    expect(counts[0]).toBe(counts[1]);
    expect(counts[0]).toBeLessThanOrEqual(2);
    expect(
      stack
        .upstreamCalls()
        .map((c) => `${c.method} ${c.path.split('?')[0]}`)
        .sort(),
    ).toEqual(['GET /Groups', 'GET /Users']);
  });

  it('shows every membership the emulator holds, teams and roles apart', async () => {
    const result = await stack.run(UsersWithTeamsAndRolesDocument, { first: 100 });
    const { store } = stack.emulator;
    for (const edge of result.data?.users.edges ?? []) {
      const groups = store.groupsOf(edge.node.keeperId).map((id) => store.getGroup(id));
      const teams = groups.filter((g) => g?.kind === 'team').map((g) => g?.displayName);
      const roles = groups
        .filter((g) => g?.kind === 'role')
        .map((g) => g?.displayName.replace(/^ROLE_/, ''));
      expect(edge.node.teams?.edges.map((e) => e.node.name).sort()).toEqual(teams.sort());
      expect(edge.node.roles?.edges.map((e) => e.node.name).sort()).toEqual(roles.sort());
    }
  });

  it('answers teams with their members in a constant number of calls, not one per team', async () => {
    const counts: number[] = [];
    for (const first of [5, 20]) {
      stack.resetLog();
      const result = await stack.run(TeamsWithMembersDocument, { first, members: 20 });
      expect(result.errors).toBeUndefined();
      expect(result.data?.teams.edges).toHaveLength(first);
      counts.push(stack.upstreamCalls().length);
      for (const { node } of result.data?.teams.edges ?? []) {
        const expected = stack.emulator.store.membersOf(node.keeperId);
        const got = node.members?.edges.map((e) => e.node.keeperId) ?? [];
        expect(node.members?.totalCount).toBe(expected.length);
        expect(got).toHaveLength(Math.min(20, expected.length));
        // Group.members keeps Keeper's order; without it, membership is read from the user scan.
        if (emulator.groupMembers === 'omit') expect(expected).toEqual(expect.arrayContaining(got));
        else expect(got).toEqual(expected.slice(0, 20));
      }
    }
    expect(counts[0]).toBe(counts[1]);
    // One Groups snapshot plus, at most, a two-page user scan (520 demo users, 500 a page).
    expect(counts[1]).toBeLessThanOrEqual(3);
  });

  it('loads 50 users by global id in far fewer than 50 calls, in the order asked', async () => {
    const page = await stack.run(UsersWithTeamsAndRolesDocument, { first: 100 });
    const users = (page.data?.users.edges ?? []).map((e) => e.node).filter((_, i) => i % 2 === 0);
    expect(users).toHaveLength(50);
    const ids = [...users.map((u) => u.id)].reverse();
    stack.resetLog();
    const result = await stack.run(NodesDocument, { ids });
    expect(result.errors).toBeUndefined();
    expect(result.data?.nodes.map((n) => (n && 'userName' in n ? n.userName : null))).toEqual(
      [...users].reverse().map((u) => u.userName),
    );
    expect(stack.upstreamCalls().length).toBeLessThanOrEqual(3);
  });

  it('fetches a small batch the cheapest way: GETs on Keeper, one or-filter where it is understood', async () => {
    const users = stack.emulator.store.listUsers().slice(40, 43);
    const ids = users.map((u) => Buffer.from(`User:${u.id}`).toString('base64'));
    stack.resetLog();
    const result = await stack.run(NodesDocument, { ids });
    expect(result.data?.nodes.map((n) => (n && 'userName' in n ? n.userName : null))).toEqual(
      users.map((u) => u.userName),
    );
    expect(result.extensions?.upstream?.batches).toEqual([
      { loader: 'userById', keys: 3, strategy: emulator.profile === 'rfc' ? 'or' : 'get' },
    ]);
    const paths = stack.upstreamCalls().map((c) => decodeURIComponent(c.path));
    if (emulator.profile === 'rfc') {
      expect(paths).toEqual([
        `/Users?filter=${users.map((u) => `id eq "${u.id}"`).join(' or ')}&startIndex=1&count=500`,
      ]);
    } else {
      expect(paths.sort()).toEqual(users.map((u) => `/Users/${u.id}`).sort());
    }
  });

  it('fetches a user asked for twice through aliases once', async () => {
    const id = stack.emulator.store.listUsers()[7]?.id as string;
    stack.resetLog();
    const result = await stack.run(SameUserTwiceDocument, { a: id, b: id });
    expect(result.data?.first?.userName).toBe(result.data?.second?.userName);
    expect(stack.upstreamCalls()).toEqual([{ method: 'GET', path: `/Users/${id}`, status: 200 }]);
  });
});
