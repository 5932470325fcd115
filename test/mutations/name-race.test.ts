import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CreateTeamDocument, RenameTeamDocument } from '../generated/graphql.ts';
import { type Stack, startStack } from '../helpers.ts';
import { teamGid } from './helpers.ts';

// A name is checked free and then taken: without a lock per name, concurrent creates (or renames)
// with one name each find it free and Keeper, which allows duplicate names, makes several groups
// with it. Names compare without case, so the lock does too.

const CALLS = 10;

describe('concurrent writes that take one team name', () => {
  let stack: Stack;
  beforeAll(async () => {
    stack = await startStack({ emulator: { seed: 'demo' } });
  });
  afterAll(() => stack.close());

  const named = (name: string) =>
    stack.emulator.store
      .listTeams()
      .filter((t) => t.displayName.toLowerCase() === name.toLowerCase());

  it('creates one team and answers NameAlreadyInUseError to every other caller', async () => {
    // One spelling: on an upstream whose names compare with case (rfc-strict), another spelling
    // is another name.
    const spellings = Array.from({ length: CALLS }, () => 'Night Shift');
    const answers = await Promise.all(
      spellings.map((name) => stack.run(CreateTeamDocument, { input: { name } })),
    );
    const kinds = answers.map((a) => a.data?.createTeam?.__typename ?? JSON.stringify(a.errors));
    expect(kinds.filter((k) => k === 'CreateTeamPayload')).toHaveLength(1);
    expect(kinds.filter((k) => k === 'NameAlreadyInUseError')).toHaveLength(CALLS - 1);
    expect(named('night shift')).toHaveLength(1);
  });

  it('renames one of several teams to a free name and refuses the others', async () => {
    const teams = stack.emulator.store.listTeams().slice(0, CALLS);
    const answers = await Promise.all(
      teams.map((t) =>
        stack.run(RenameTeamDocument, { input: { id: teamGid(t.id), name: 'Day Shift' } }),
      ),
    );
    const kinds = answers.map((a) => a.data?.renameTeam?.__typename ?? JSON.stringify(a.errors));
    expect(kinds.filter((k) => k === 'RenameTeamPayload')).toHaveLength(1);
    expect(kinds.filter((k) => k === 'NameAlreadyInUseError')).toHaveLength(CALLS - 1);
    expect(named('day shift')).toHaveLength(1);
  });
});
