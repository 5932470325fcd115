import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { NodesDocument, TeamsWithMembersDocument, UserPageDocument } from '../generated/graphql.ts';
import { type Stack, startStack } from '../helpers.ts';

// An upstream with every paging quirk docs/design.md warns of: itemsPerPage echoing the requested
// count, a startIndex past the end answering the first page again, and pages capped below the
// count asked (here 100, while the facade asks 500), with Group members omitted so that
// membership needs a full user scan.
describe('paging against a quirky upstream', () => {
  let stack: Stack;
  beforeAll(async () => {
    stack = await startStack({
      emulator: {
        groupMembers: 'omit',
        paging: { echoCount: true, wrapPastEnd: true, maxCount: 100 },
      },
    });
  });
  afterAll(() => stack.close());

  it('scans every user once, stopping at totalResults without wrapping around', async () => {
    const { store } = stack.emulator;
    const team = store.listTeams().find((t) => store.membersOf(t.id).length > 20);
    if (!team) throw new Error('demo seed has a large team');
    stack.resetLog();
    const result = await stack.run(TeamsWithMembersDocument, { first: 100, members: 100 });
    expect(result.errors).toBeUndefined();
    const node = result.data?.teams.edges.find((e) => e.node.keeperId === team.id)?.node;
    expect(node?.members?.totalCount).toBe(store.membersOf(team.id).length);
    // 520 users in pages of at most 100: startIndex 1, 101, … 501, each once, never past the end.
    // The pages are asked in parallel (1 and 501 first, then the gap the capped first page left),
    // so the log's order is not the list's.
    const scans = stack
      .upstreamCalls()
      .filter((c) => c.path.startsWith('/Users?'))
      .map((c) => Number(new URLSearchParams(c.path.split('?')[1]).get('startIndex')));
    expect(scans.sort((a, b) => a - b)).toEqual([1, 101, 201, 301, 401, 501]);
  });

  it('loads a large batch by id from the scan, every user exactly once', async () => {
    const users = stack.emulator.store.listUsers().slice(0, 60);
    const result = await stack.run(NodesDocument, {
      ids: users.map((u) => Buffer.from(`User:${u.id}`).toString('base64')),
    });
    expect(result.data?.nodes.map((n) => (n && 'keeperId' in n ? n.keeperId : null))).toEqual(
      users.map((u) => u.id),
    );
  });

  it('pages users to the very end without the first page coming back', async () => {
    const total = stack.emulator.store.listUsers().length;
    const last = await stack.run(UserPageDocument, { last: 3 });
    expect(last.data?.users.edges.map((e) => e.node.keeperId)).toEqual(
      stack.emulator.store
        .listUsers()
        .slice(total - 3)
        .map((u) => u.id),
    );
    const past = await stack.run(UserPageDocument, {
      first: 5,
      after: last.data?.users.pageInfo.endCursor,
    });
    expect(past.data?.users).toMatchObject({
      totalCount: total,
      edges: [],
      pageInfo: { hasNextPage: false },
    });
  });
});
