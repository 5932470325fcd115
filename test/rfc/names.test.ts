import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import {
  CreateRoleDocument,
  CreateTeamDocument,
  RenameTeamDocument,
} from '../generated/graphql.ts';
import { type Stack, startStack } from '../helpers.ts';
import { roleGid, seededGroup, teamGid, writes } from '../mutations/helpers.ts';

// A team or role name that another group has is NameAlreadyInUseError (compared without case),
// whether the upstream allows duplicate names (Keeper) or refuses them with 409 (rfc-strict).

describe.each(['keeper', 'rfc-strict'] as const)('taken names on a %s upstream', (profile) => {
  const strict = profile === 'rfc-strict';
  let stack: Stack;
  beforeAll(async () => {
    stack = await startStack({ emulator: { profile } });
  });
  afterAll(() => stack.close());
  beforeEach(() => stack.resetLog());

  it('createTeam answers NameAlreadyInUseError for a taken name in any case, writing nothing', async () => {
    const security = seededGroup(stack, 'Security');
    const result = await stack.run(CreateTeamDocument, { input: { name: 'SECURITY' } });
    expect(result.data?.createTeam).toMatchObject({
      __typename: 'NameAlreadyInUseError',
      name: 'SECURITY',
      existingIds: [teamGid(security.id)],
    });
    expect(writes(stack)).toEqual([]);
  });

  it('allowDuplicateName creates a second team where the upstream allows it, else is typed', async () => {
    const qa = seededGroup(stack, 'QA');
    const before = stack.emulator.store.listTeams().length;
    const result = await stack.run(CreateTeamDocument, {
      input: { name: 'QA', allowDuplicateName: true },
    });
    if (strict) {
      // The upstream's 409 uniqueness, typed the same, with who holds the name.
      expect(result.data?.createTeam).toMatchObject({
        __typename: 'NameAlreadyInUseError',
        name: 'QA',
        existingIds: [teamGid(qa.id)],
      });
      expect(stack.emulator.store.listTeams()).toHaveLength(before);
    } else {
      expect(result.data?.createTeam).toMatchObject({
        __typename: 'CreateTeamPayload',
        team: { name: 'QA' },
      });
      expect(stack.emulator.store.listTeams()).toHaveLength(before + 1);
    }
    expect(writes(stack)).toEqual(['POST /Groups']);
  });

  it('replays a keyed NameAlreadyInUseError with the same fields and wording', async () => {
    const input = { name: 'security', clientMutationId: `taken-${profile}` };
    const first = await stack.run(CreateTeamDocument, { input });
    const again = await stack.run(CreateTeamDocument, { input });
    expect(first.data?.createTeam.__typename).toBe('NameAlreadyInUseError');
    expect(again.data).toEqual(first.data);
    expect(writes(stack)).toEqual([]);
  });

  it('createRole answers NameAlreadyInUseError for a taken role name', async () => {
    const admins = seededGroup(stack, 'ROLE_Admins');
    const result = await stack.run(CreateRoleDocument, { input: { name: 'admins' } });
    expect(result.data?.createRole).toMatchObject({
      __typename: 'NameAlreadyInUseError',
      name: 'admins',
      existingIds: [roleGid(admins.id)],
    });
    expect(writes(stack)).toEqual([]);
  });

  it('renameTeam refuses another team’s name but takes its own in another case', async () => {
    const support = seededGroup(stack, 'Customer Support');
    const security = seededGroup(stack, 'Security');
    const taken = await stack.run(RenameTeamDocument, {
      input: { id: teamGid(support.id), name: 'security' },
    });
    expect(taken.data?.renameTeam).toMatchObject({
      __typename: 'NameAlreadyInUseError',
      existingIds: [teamGid(security.id)],
    });
    expect(writes(stack)).toEqual([]);
    const own = await stack.run(RenameTeamDocument, {
      input: { id: teamGid(support.id), name: 'CUSTOMER Support' },
    });
    expect(own.data?.renameTeam).toMatchObject({
      __typename: 'RenameTeamPayload',
      team: { name: 'CUSTOMER Support' },
    });
  });
});
