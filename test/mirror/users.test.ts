import { describe, expect, it } from 'vitest';
import {
  LockUserDocument,
  MirrorGroupsDocument,
  MirrorTeamMembersDocument,
  MirrorUsersDocument,
  MirrorUsersFreshDocument,
} from '../generated/graphql.ts';
import { type Stack, startStack } from '../helpers.ts';
import { teamGid, userGid } from '../mutations/helpers.ts';

// `users` answered from the directory mirror: a portal's session (a page with teams and roles,
// the next page, locked users, a search, a team's members, another order) makes no upstream call
// once the mirror has read the node; a mutation shows at once; `@fresh` and
// `Cache-Control: no-cache` read the upstream instead; keyset cursors are bound to their order.

const mirrored = () => startStack({ env: { MIRROR: 'on' } });
const ids = (r: Awaited<ReturnType<typeof users>>) =>
  r.data?.users.edges.map((e) => e.node.keeperId) ?? [];
const users = (
  stack: Stack,
  variables: Parameters<typeof stack.run<never, object>>[1] & object,
  headers = {},
) => stack.run(MirrorUsersDocument, variables as never, headers);

describe('users from the directory mirror', () => {
  it('answers a portal session in zero upstream calls after the first read of the node', async () => {
    const stack = await mirrored();
    try {
      await stack.mirror!.ready();
      stack.resetLog();
      const store = stack.emulator.store;
      const first = await users(stack, { first: 10 });
      expect(first.errors).toBeUndefined();
      const all = store.listUsers();
      const byName = [...all].sort((a, b) =>
        a.userName.toLowerCase() < b.userName.toLowerCase() ? -1 : 1,
      );
      expect(ids(first)).toEqual(byName.slice(0, 10).map((u) => u.id));
      expect(first.data?.users.totalCount).toBe(all.length);
      const u0 = first.data!.users.edges[0]!.node;
      expect(u0.teams?.edges.map((e) => e.node.keeperId).sort()).toEqual(
        store
          .groupsOf(u0.keeperId)
          .filter((g) => store.getGroup(g)?.kind === 'team')
          .sort(),
      );
      expect(first.extensions).toMatchObject({ directory: { asOf: expect.any(String) } });

      const next = await users(stack, { first: 10, after: first.data!.users.pageInfo.endCursor });
      expect(ids(next)).toEqual(byName.slice(10, 20).map((u) => u.id));
      const locked = await users(stack, { filter: { active: false }, first: 100 });
      expect(locked.data?.users.totalCount).toBe(all.filter((u) => !u.active).length);
      const search = await users(stack, {
        filter: { search: all[3]!.userName.slice(0, 6).toUpperCase() },
      });
      expect(ids(search)).toContain(all[3]!.id);
      const team = store.listTeams().find((t) => {
        const size = store.membersOf(t.id).length;
        return size > 3 && size <= 100;
      })!;
      const members = await users(stack, {
        filter: { teamId: teamGid(team.id), active: true },
        first: 100,
      });
      expect(ids(members).sort()).toEqual(
        store
          .membersOf(team.id)
          .filter((id) => store.getUser(id)?.active)
          .sort(),
      );
      const desc = await users(stack, {
        orderBy: { field: 'DISPLAY_NAME', direction: 'DESC' },
        first: 5,
      });
      expect(desc.errors).toBeUndefined();
      expect(stack.upstreamCalls()).toEqual([]);
    } finally {
      await stack.close();
    }
  });

  it('shows a mutation at once, and refuses a cursor of another order', async () => {
    const stack = await mirrored();
    try {
      const store = stack.emulator.store;
      const user = store.listUsers().find((u) => u.active)!;
      const before = await users(stack, { filter: { active: false }, first: 100 });
      expect(ids(before)).not.toContain(user.id);
      await stack.run(LockUserDocument, { input: { id: userGid(user.id) } });
      const after = await users(stack, { filter: { active: false }, first: 100 });
      expect(ids(after)).toContain(user.id);

      const page = await users(stack, { first: 2 });
      const other = await users(stack, {
        first: 2,
        after: page.data!.users.pageInfo.endCursor,
        orderBy: { field: 'FAMILY_NAME' },
      });
      expect(other.data).toBeNull();
      expect(other.errors?.[0]?.extensions).toMatchObject({
        code: 'BAD_USER_INPUT',
        argument: 'after',
      });
    } finally {
      await stack.close();
    }
  });

  it('reads the upstream for @fresh and Cache-Control: no-cache, and refuses mirror-only arguments there', async () => {
    const stack = await mirrored();
    try {
      await stack.mirror!.ready();
      stack.resetLog();
      const fresh = await stack.run(MirrorUsersFreshDocument, { first: 5 });
      expect(fresh.errors).toBeUndefined();
      expect(stack.upstreamCalls().length).toBeGreaterThan(0);
      expect(fresh.extensions).not.toHaveProperty('directory');
      stack.resetLog();
      const noCache = await users(stack, { first: 5 }, { 'cache-control': 'no-cache' });
      expect(noCache.errors).toBeUndefined();
      expect(stack.upstreamCalls().length).toBeGreaterThan(0);
      const refused = await stack.run(MirrorUsersFreshDocument, {
        orderBy: { field: 'USER_NAME' },
        first: 5,
      });
      expect(refused.errors?.[0]?.extensions).toMatchObject({
        code: 'BAD_USER_INPUT',
        argument: 'orderBy',
      });
    } finally {
      await stack.close();
    }
  });

  it('answers the members of a team filtered by active from the mirror; only the team lookup is read', async () => {
    const stack = await mirrored();
    try {
      await stack.mirror!.ready();
      const store = stack.emulator.store;
      const team = store.listTeams().find((t) => {
        const members = store.membersOf(t.id);
        return members.length <= 100 && members.some((id) => !store.getUser(id)?.active);
      })!;
      stack.resetLog();
      const locked = await stack.run(MirrorTeamMembersDocument, {
        name: team.displayName,
        active: false,
      });
      expect(locked.errors).toBeUndefined();
      expect(locked.data?.team?.members?.edges.map((e) => e.node.keeperId).sort()).toEqual(
        store
          .membersOf(team.id)
          .filter((id) => !store.getUser(id)?.active)
          .sort(),
      );
      // The lookup by name is a fresh read; the members come from the mirror.
      expect(stack.upstreamCalls().map((c) => `${c.method} ${c.path.split('?')[0]}`)).toEqual([
        'GET /Groups',
      ]);
      const fresh = await stack.run(
        MirrorTeamMembersDocument,
        { name: team.displayName, active: false },
        { 'cache-control': 'no-cache' },
      );
      expect(fresh.errors?.[0]?.extensions).toMatchObject({
        code: 'BAD_USER_INPUT',
        argument: 'filter.active',
      });
    } finally {
      await stack.close();
    }
  });

  it('lists teams and roles by name from the mirror, with their member counts, in zero upstream calls', async () => {
    const stack = await mirrored();
    try {
      await stack.mirror!.ready();
      stack.resetLog();
      const store = stack.emulator.store;
      const byName = (names: string[]) =>
        [...names].sort((a, b) => (a.toLowerCase() < b.toLowerCase() ? -1 : 1));
      const teams = byName(store.listTeams().map((t) => t.displayName));
      const first = await stack.run(MirrorGroupsDocument, {
        first: 5,
        orderBy: { direction: 'DESC' },
      });
      expect(first.errors).toBeUndefined();
      expect(first.data?.teams.edges.map((e) => e.node.name)).toEqual(
        [...teams].reverse().slice(0, 5),
      );
      expect(first.data?.teams.totalCount).toBe(teams.length);
      const next = await stack.run(MirrorGroupsDocument, {
        first: 5,
        orderBy: { direction: 'DESC' },
        after: first.data!.teams.pageInfo.endCursor,
      });
      expect(next.data?.teams.edges.map((e) => e.node.name)).toEqual(
        [...teams].reverse().slice(5, 10),
      );
      const t0 = store.listTeams().find((t) => t.displayName === teams.at(-1))!;
      expect(first.data?.teams.edges[0]?.node.members?.totalCount).toBe(
        store.membersOf(t0.id).length,
      );
      const roles = byName(store.listRoles().map((r) => r.displayName.slice('ROLE_'.length)));
      expect(first.data?.roles.edges.map((e) => e.node.name)).toEqual(
        [...roles].reverse().slice(0, 3),
      );
      expect(stack.upstreamCalls()).toEqual([]);
    } finally {
      await stack.close();
    }
  });
});
