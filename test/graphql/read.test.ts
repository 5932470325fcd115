import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  NodeByIdDocument,
  RoleLookupDocument,
  RolesWithMembersDocument,
  TeamLookupDocument,
  TeamsWithMembersDocument,
  UpstreamInfoDocument,
  UserLookupDocument,
  UserPageDocument,
} from '../generated/graphql.ts';
import { type Stack, startStack } from '../helpers.ts';

describe('read API on the demo node', () => {
  let stack: Stack;
  beforeAll(async () => {
    stack = await startStack();
  });
  afterAll(() => stack.close());

  const allIds = () => stack.emulator.store.listUsers().map((u) => u.id);

  it('pages forward through every user exactly once', async () => {
    const seen: string[] = [];
    let after: string | null | undefined;
    for (let pages = 0; pages < 20; pages++) {
      const result = await stack.run(UserPageDocument, { first: 100, after });
      expect(result.errors).toBeUndefined();
      const users = result.data?.users;
      expect(users?.totalCount).toBe(allIds().length);
      seen.push(...(users?.edges ?? []).map((e) => e.node.keeperId));
      if (!users?.pageInfo.hasNextPage) break;
      after = users.pageInfo.endCursor;
    }
    expect(seen).toEqual(allIds());
  });

  it('pages backward through every user exactly once', async () => {
    const seen: string[] = [];
    let before: string | null | undefined;
    for (let pages = 0; pages < 20; pages++) {
      const result = await stack.run(UserPageDocument, { last: 100, before });
      expect(result.errors).toBeUndefined();
      const users = result.data?.users;
      seen.unshift(...(users?.edges ?? []).map((e) => e.node.keeperId));
      if (!users?.pageInfo.hasPreviousPage) break;
      before = users.pageInfo.startCursor;
    }
    expect(seen).toEqual(allIds());
  });

  it('returns an empty last page rather than wrapping around past the end', async () => {
    const total = allIds().length;
    const last = await stack.run(UserPageDocument, { last: 1 });
    const cursor = last.data?.users.edges[0]?.cursor;
    const past = await stack.run(UserPageDocument, { first: 10, after: cursor });
    expect(past.data?.users).toMatchObject({
      totalCount: total,
      edges: [],
      pageInfo: { hasNextPage: false },
    });
  });

  it('refuses more than 100 per page, negative sizes and foreign cursors with clear errors', async () => {
    const tooMany = await stack.run(UserPageDocument, { first: 101 });
    expect(tooMany.errors?.[0]).toMatchObject({
      message: '`first` is 101, above the maximum of 100; page with `after`/`before` instead',
      extensions: { code: 'BAD_USER_INPUT', argument: 'first' },
    });
    const negative = await stack.run(UserPageDocument, { last: -1 });
    expect(negative.errors?.[0]?.extensions).toMatchObject({
      code: 'BAD_USER_INPUT',
      argument: 'last',
    });
    const cursor = await stack.run(UserPageDocument, { first: 5, after: 'bm90IGEgY3Vyc29y' });
    expect(cursor.errors?.[0]).toMatchObject({
      message: '`after` is not a cursor of this connection',
      extensions: { code: 'BAD_USER_INPUT' },
    });
  });

  it('looks users up by userName and externalId with quotes and backslashes, escaped upstream', async () => {
    const tricky = stack.emulator.store.createUser({
      userName: 'o"brien\\ops@acme.example',
      externalId: 'ext "quoted" \\ back',
      displayName: 'Quote "Test"',
    });
    stack.resetLog();
    const byName = await stack.run(UserLookupDocument, { userName: 'O"Brien\\OPS@acme.example' });
    expect(byName.data?.user).toMatchObject({ keeperId: tricky.id, displayName: 'Quote "Test"' });
    expect(stack.upstreamCalls().filter((c) => c.path.startsWith('/Users'))).toEqual([
      {
        method: 'GET',
        // As given: an upstream may compare userName with case; the answer is matched without.
        path: `/Users?filter=${encodeURIComponent('userName eq "O\\"Brien\\\\OPS@acme.example"')}&startIndex=1&count=10`,
        status: 200,
      },
    ]);
    const byExternal = await stack.run(UserLookupDocument, { externalId: 'ext "quoted" \\ back' });
    expect(byExternal.data?.user?.keeperId).toBe(tricky.id);
    const filtered = await stack.run(UserPageDocument, { filter: { userName: tricky.userName } });
    expect(filtered.data?.users).toMatchObject({
      totalCount: 1,
      edges: [{ node: { keeperId: tricky.id } }],
    });
    const none = await stack.run(UserLookupDocument, { externalId: 'ext "quoted" \\ BACK' });
    expect(none.data?.user).toBeNull();
  });

  it('asks for exactly one lookup key', async () => {
    const result = await stack.run(UserLookupDocument, { userName: 'a@b.example', keeperId: '1' });
    expect(result.errors?.[0]).toMatchObject({
      message: 'Give exactly one of `id`, `keeperId`, `userName` or `externalId`',
      extensions: { code: 'BAD_USER_INPUT' },
    });
  });

  it('filters locked users and text over one bounded scan', async () => {
    const locked = stack.emulator.store.listUsers().filter((u) => !u.active);
    expect(locked.length).toBeGreaterThan(0);
    stack.resetLog();
    const result = await stack.run(UserPageDocument, { first: 100, filter: { active: false } });
    expect(result.data?.users.totalCount).toBe(locked.length);
    expect(result.data?.users.edges.map((e) => e.node.keeperId)).toEqual(
      locked.slice(0, 100).map((u) => u.id),
    );
    expect(
      stack
        .upstreamCalls()
        .every((c) => c.method === 'GET' && c.path.startsWith('/Users?startIndex=')),
    ).toBe(true);

    const sample = stack.emulator.store.listUsers()[3];
    const family = sample?.name?.familyName as string;
    const search = await stack.run(UserPageDocument, {
      first: 100,
      filter: { search: family.toUpperCase() },
    });
    const expected = stack.emulator.store
      .listUsers()
      .filter((u) =>
        [u.userName, u.displayName, u.name?.givenName, u.name?.familyName].some((s) =>
          s?.toLowerCase().includes(family.toLowerCase()),
        ),
      );
    expect(search.data?.users.totalCount).toBe(expected.length);
  });

  it('keeps teams and roles apart', async () => {
    const { store } = stack.emulator;
    const teams = await stack.run(TeamsWithMembersDocument, { first: 100, members: 1 });
    expect(teams.data?.teams.totalCount).toBe(store.listTeams().length);
    expect(teams.data?.teams.edges.every((e) => !e.node.name.startsWith('ROLE_'))).toBe(true);
    const roles = await stack.run(RolesWithMembersDocument, { first: 100, members: 100 });
    expect(roles.data?.roles.totalCount).toBe(store.listRoles().length);
    for (const { node } of roles.data?.roles.edges ?? []) {
      expect(node.groupName).toBe(`ROLE_${node.name}`);
      expect(node.members?.totalCount).toBe(store.membersOf(node.keeperId).length);
    }
  });

  it('finds teams and roles by name and id, and never a role as a team', async () => {
    const team = stack.emulator.store.listTeams()[2];
    const role = stack.emulator.store.listRoles()[0];
    if (!team || !role) throw new Error('demo seed has teams and roles');
    const byName = await stack.run(TeamLookupDocument, { name: team.displayName });
    expect(byName.data?.team).toMatchObject({
      __typename: 'Team',
      keeperId: team.id,
      name: team.displayName,
    });
    const roleName = role.displayName.replace(/^ROLE_/, '');
    for (const name of [roleName, role.displayName]) {
      const found = await stack.run(RoleLookupDocument, { name });
      expect(found.data?.role).toMatchObject({
        __typename: 'Role',
        keeperId: role.id,
        name: roleName,
      });
    }
    const roleAsTeam = await stack.run(TeamLookupDocument, { keeperId: role.id });
    expect(roleAsTeam.data?.team).toBeNull();
    const roleId = (await stack.run(RoleLookupDocument, { keeperId: role.id })).data?.role
      ?.id as string;
    const roleNode = await stack.run(NodeByIdDocument, { id: roleId });
    expect(roleNode.data?.node).toMatchObject({ __typename: 'Role', name: roleName });
    const teamById = await stack.run(TeamLookupDocument, { id: roleId });
    expect(teamById.data?.team).toBeNull();
  });

  it('asks team and role names upstream as escaped displayName filters', async () => {
    const { store } = stack.emulator;
    const tricky = store.createTeam({ displayName: 'R&D "Labs" \\ East', externalId: 'rd-east' });
    stack.resetLog();
    const team = await stack.run(TeamLookupDocument, { name: 'r&d "labs" \\ east' });
    expect(team.data?.team).toMatchObject({ keeperId: tricky.id, name: 'R&D "Labs" \\ East' });
    expect(stack.upstreamCalls()[0]).toEqual({
      method: 'GET',
      path: `/Groups?filter=${encodeURIComponent('displayName eq "r&d \\"labs\\" \\\\ east"')}&startIndex=1&count=500&excludedAttributes=members`,
      status: 200,
    });

    const role = store.listRoles()[1];
    if (!role) throw new Error('demo seed has roles');
    stack.resetLog();
    const byName = await stack.run(RoleLookupDocument, {
      name: role.displayName.replace(/^ROLE_/, ''),
    });
    expect(byName.data?.role?.keeperId).toBe(role.id);
    expect(stack.upstreamCalls().map((c) => decodeURIComponent(c.path).split('&')[0])).toEqual([
      `/Groups?filter=displayName eq "${role.displayName}"`,
    ]);

    // A team name that is a role's is not a team.
    const asTeam = await stack.run(TeamLookupDocument, { name: role.displayName });
    expect(asTeam.data?.team).toBeNull();
  });

  it('describes the upstream without its token', async () => {
    const result = await stack.run(UpstreamInfoDocument);
    expect(result.data?.upstream).toMatchObject({
      baseUrl: stack.emulator.baseUrl,
      nodeId: stack.emulator.nodeId,
      emulated: true,
      rolePrefix: 'ROLE_',
      capabilities: { orFilters: false, orFiltersSource: 'probe' },
    });
    expect(JSON.stringify(result)).not.toContain(stack.emulator.token);
  });
});

describe('upstream failures', () => {
  const leaks = (stack: Stack, body: unknown) => {
    const text = JSON.stringify(body);
    expect(text).not.toContain(stack.emulator.token);
    expect(text).not.toContain('Bearer');
    expect(text).not.toContain('filter=');
    expect(text).not.toContain('    at ');
  };

  it('reports a refused token as UPSTREAM_UNAUTHORIZED, without either token', async () => {
    const wrongToken = 'wrong-token-ZmFjYWRlLWhvbGRzLWEtc3RhbGUtdG9rZW4';
    const stack = await startStack({ probe: false, env: { KEEPER_SCIM_TOKEN: wrongToken } });
    try {
      const result = await stack.run(UserPageDocument, { first: 5 });
      expect(result.data).toBeNull();
      expect(result.errors).toEqual([
        {
          message:
            'Keeper refused the SCIM token of this service (it may be wrong, rotated or not yet saved in the Admin Console).',
          locations: [{ line: 2, column: 3 }],
          path: ['users'],
          extensions: { code: 'UPSTREAM_UNAUTHORIZED', upstream: { status: 401 } },
        },
      ]);
      leaks(stack, result);
      expect(JSON.stringify(result)).not.toContain(wrongToken);
      expect(stack.masked).toEqual([]);
    } finally {
      await stack.close();
    }
  });

  it('reports an unreachable upstream as UPSTREAM_UNAVAILABLE', async () => {
    const stack = await startStack({ probe: false });
    try {
      await stack.emulator.close();
      const result = await stack.run(UserPageDocument, { first: 5 });
      expect(result.errors?.[0]).toMatchObject({
        message: 'The Keeper SCIM endpoint could not be reached or failed; retry later.',
        extensions: { code: 'UPSTREAM_UNAVAILABLE', upstream: { status: 0 } },
      });
      leaks(stack, result);
      expect(JSON.stringify(result)).not.toContain(stack.emulator.url);
    } finally {
      await stack.close();
    }
  });

  it('reports a 5xx that outlasts the retries as UPSTREAM_UNAVAILABLE, after retrying', async () => {
    const stack = await startStack();
    try {
      stack.emulator.faults.enqueue({ method: 'GET', path: '/Users', fault: 503, times: 10 });
      const result = await stack.run(UserPageDocument, { first: 5 });
      expect(result.errors?.[0]?.extensions).toEqual({
        code: 'UPSTREAM_UNAVAILABLE',
        upstream: { status: 503 },
      });
      // One attempt and UPSTREAM_MAX_RETRIES (2) retries.
      expect(stack.upstreamCalls().map((c) => c.status)).toEqual([503, 503, 503]);
      expect(result.extensions?.upstream).toMatchObject({ calls: 3, retries: 2 });
      leaks(stack, result);
    } finally {
      await stack.close();
    }
  });

  it('recovers a read from one transient failure', async () => {
    const stack = await startStack();
    try {
      stack.emulator.faults.enqueue({ method: 'GET', path: '/Users', fault: 'reset-before-apply' });
      const result = await stack.run(UserPageDocument, { first: 5 });
      expect(result.errors).toBeUndefined();
      expect(result.data?.users.edges).toHaveLength(5);
      expect(stack.upstreamCalls().map((c) => c.status)).toEqual([0, 200]);
    } finally {
      await stack.close();
    }
  });

  it('reports rate limiting as RATE_LIMITED with retryAfter when Retry-After is longer than it may wait', async () => {
    const stack = await startStack();
    try {
      stack.emulator.faults.enqueue({
        method: 'GET',
        path: '/Groups',
        fault: 429,
        retryAfterSeconds: 30,
      });
      const result = await stack.run(TeamsWithMembersDocument, { first: 1, members: 1 });
      expect(result.errors?.[0]?.extensions).toEqual({
        code: 'RATE_LIMITED',
        retryAfter: 30,
        upstream: { status: 429 },
      });
      leaks(stack, result);
    } finally {
      await stack.close();
    }
  });
});

describe('health and readiness', () => {
  it('answers /health, and /ready only while the upstream accepts the token', async () => {
    const good = await startStack();
    const bad = await startStack({ probe: false, env: { KEEPER_SCIM_TOKEN: 'not-the-token' } });
    try {
      expect((await good.app.fetch('http://facade.test/health')).status).toBe(200);
      expect((await good.app.fetch('http://facade.test/ready')).status).toBe(200);
      const refused = await bad.app.fetch('http://facade.test/ready');
      expect(refused.status).toBe(503);
      expect(await refused.text()).not.toContain('not-the-token');
    } finally {
      await good.close();
      await bad.close();
    }
  });
});
