import { decodeGlobalID } from '@pothos/plugin-relay';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SetTeamMembersChangesDocument } from '../generated/graphql.ts';
import { type Stack, startStack } from '../helpers.ts';
import { teamGid, userGid } from './helpers.ts';

// Read-modify-write mutations do not lose updates: 50 concurrent setTeamMembers on one team, each
// asking for exactly {common, u_i}. Serialised per team, they run one after the other: the team
// ends with exactly the set of the call that ran last, and each payload's added/removed are the
// difference between its own set and the set of the call before it.

const CALLS = 50;

describe('concurrent setTeamMembers on one team', () => {
  let stack: Stack;
  beforeAll(async () => {
    stack = await startStack({ emulator: { seed: 'demo' } });
  });
  afterAll(() => stack.close());

  it('ends with exactly one caller’s set, and each payload tells its own change', async () => {
    const { store } = stack.emulator;
    const team = store.listTeams().find((t) => store.membersOf(t.id).length >= 3);
    if (!team) throw new Error('no team with members');
    const initial = store.membersOf(team.id);
    const outsiders = store.listUsers().filter((u) => !initial.includes(u.id));
    const common = initial[0] ?? '';
    const own = outsiders.slice(0, CALLS).map((u) => u.id);
    const wanted = own.map((u) => [common, u]);

    const answers = await Promise.all(
      wanted.map((ids) =>
        stack.run(SetTeamMembersChangesDocument, {
          input: { teamId: teamGid(team.id), userIds: ids.map(userGid) },
        }),
      ),
    );
    const payloads = answers.map((a, i) => {
      const p = a.data?.setTeamMembers;
      if (p?.__typename !== 'SetTeamMembersPayload') throw new Error(JSON.stringify(a));
      const keeper = (ids: string[]) => ids.map((id) => decodeGlobalID(id).id).sort();
      return { i, added: keeper(p.addedIds), removed: keeper(p.removedIds), counts: p };
    });

    // The final members are exactly the set one caller asked for.
    const final = store.membersOf(team.id).sort();
    const winner = wanted.findIndex((w) => [...w].sort().join() === final.join());
    expect(winner).toBeGreaterThanOrEqual(0);

    // Replaying the payloads as a chain from the initial members reproduces every call's
    // difference: the first removes the initial members but `common`, each later one the
    // previous caller's own user, and every call adds its own user.
    let current = new Set(initial);
    const left = new Set(payloads.map((p) => p.i));
    while (left.size > 0) {
      const next = payloads.find(
        (p) =>
          left.has(p.i) &&
          p.removed.join() ===
            [...current]
              .filter((id) => !wanted[p.i]?.includes(id))
              .sort()
              .join(),
      );
      expect(next, `no call follows ${[...current].sort().join()}`).toBeDefined();
      if (!next) break;
      const want = new Set(wanted[next.i]);
      expect(next.added).toEqual([...want].filter((id) => !current.has(id)).sort());
      expect(next.counts.added).toBe(next.added.length);
      expect(next.counts.removed).toBe(next.removed.length);
      current = want;
      left.delete(next.i);
    }
    expect([...current].sort()).toEqual(final);
  });
});
