import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { compactPayload } from '../src/directory/writes/stored.ts';
import { createMemoryIdempotencyStore, fingerprint } from '../src/idempotency.ts';
import { RenameTeamDocument, SetTeamMembersChangesDocument } from './generated/graphql.ts';
import { heapAfterGc } from './heap.ts';
import { type Stack, startStack } from './helpers.ts';
import { teamGid, userGid } from './mutations/helpers.ts';

// The idempotency store has a memory budget: it keeps what a payload says (its typename, the ids
// of the written objects, counts and id lists), never a copy of the objects, and drops the oldest
// finished keys beyond IDEMPOTENCY_MAX_BYTES. A replay reads the objects again.

describe('idempotency store memory', () => {
  it('keeps 100k setTeamMembers results on a 200-member team within the byte budget', async () => {
    const maxBytes = 64 * 1024 * 1024;
    // The largest payload: a team with 200 members, every one of them added by the call.
    const members = Array.from({ length: 200 }, (_, i) => ({
      value: String(3450748524298490 + i),
    }));
    const payload = {
      team: {
        kind: 'Team' as const,
        name: 'Engineering',
        group: { id: 'MftcXV1kUUUVw-Ei6pQv2g', displayName: 'Engineering', members },
      },
      added: members.map((m) => m.value),
      removed: [] as string[],
    };
    const before = heapAfterGc();
    const store = createMemoryIdempotencyStore({ ttlMs: 86_400_000, maxBytes });
    for (let i = 0; i < 100_000; i++) {
      const key = `caller:setTeamMembers:key-${i}`;
      const print = fingerprint({ teamId: 'x', userIds: [i] });
      await store.begin(key, print);
      await store.finish(key, print, { kind: 'final', result: compactPayload(payload) });
    }
    const used = heapAfterGc() - before;
    console.log(`100k keys: ${(used / 1024 / 1024).toFixed(1)} MiB of heap`);
    expect(used).toBeLessThan(maxBytes);
    // The newest keys are still remembered; the oldest were dropped for them.
    const newest = await store.begin(
      'caller:setTeamMembers:key-99999',
      fingerprint({ teamId: 'x', userIds: [99999] }),
    );
    expect(newest.state).toBe('done');
    const oldest = await store.begin('caller:setTeamMembers:key-0', fingerprint({ a: 1 }));
    expect(oldest.state).toBe('new');
  }, 120_000);

  it('never drops the key of a call still running', async () => {
    const store = createMemoryIdempotencyStore({ ttlMs: 60_000, maxBytes: 65_536 });
    await store.begin('running', 'p');
    for (let i = 0; i < 500; i++) {
      await store.begin(`k${i}`, 'p');
      await store.finish(`k${i}`, 'p', { kind: 'final', result: { ids: ['x'.repeat(200)] } });
    }
    expect((await store.begin('running', 'p')).state).toBe('in-flight');
  });
});

describe('a replayed call', () => {
  let stack: Stack;
  beforeAll(async () => {
    stack = await startStack({ emulator: { seed: 'demo' } });
  });
  afterAll(() => stack.close());

  it('returns the object as it is now, read again, without writing', async () => {
    const { store } = stack.emulator;
    const team = store.listTeams().find((t) => store.membersOf(t.id).length >= 2);
    if (!team) throw new Error('no team');
    const userIds = store.membersOf(team.id).slice(0, 1).map(userGid);
    const input = { teamId: teamGid(team.id), userIds, clientMutationId: 'set-once-1' };
    const first = await stack.run(SetTeamMembersChangesDocument, { input });
    expect(first.data?.setTeamMembers).toMatchObject({ __typename: 'SetTeamMembersPayload' });

    await stack.run(RenameTeamDocument, { input: { id: teamGid(team.id), name: 'Renamed later' } });
    stack.resetLog();
    const again = await stack.run(SetTeamMembersChangesDocument, { input });
    expect(again.data?.setTeamMembers).toEqual({
      ...first.data?.setTeamMembers,
      replayed: true,
      team: { keeperId: team.id, name: 'Renamed later' },
    });
    expect(stack.upstreamCalls().filter((c) => c.method !== 'GET')).toEqual([]);
  });
});
