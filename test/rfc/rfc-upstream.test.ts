import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import {
  AddTeamMembersDocument,
  CreateUserDocument,
  DeprovisionUserDocument,
  UpstreamCapabilitiesDocument,
  UserLookupDocument,
} from '../generated/graphql.ts';
import { type Stack, startStack } from '../helpers.ts';
import {
  roleGid,
  seededGroup,
  seededUser,
  teamGid,
  userGid,
  writes,
} from '../mutations/helpers.ts';

// The facade against the emulator's two dialects: Keeper, and a generic RFC 7644 server
// (`rfc-strict`). The same calls must give the same typed outcomes on both.

describe.each(['keeper', 'rfc-strict'] as const)('on a %s upstream', (profile) => {
  const strict = profile === 'rfc-strict';
  let stack: Stack;
  beforeAll(async () => {
    stack = await startStack({ emulator: { profile } });
  });
  afterAll(() => stack.close());
  beforeEach(() => {
    stack.emulator.faults.clear();
    stack.resetLog();
  });

  const capabilities = async () =>
    (await stack.run(UpstreamCapabilitiesDocument)).data?.upstream.capabilities;

  it('createUser makes every team and role membership, learning how once', async () => {
    const security = seededGroup(stack, 'Security');
    const qa = seededGroup(stack, 'QA');
    const admins = seededGroup(stack, 'ROLE_Admins');
    expect((await capabilities())?.userGroupsOnCreate).toBe('unknown');
    stack.resetLog();

    const first = await stack.run(CreateUserDocument, {
      input: {
        userName: `first.${profile}@acme.example`,
        teamIds: [teamGid(security.id), teamGid(qa.id)],
        roleIds: [roleGid(admins.id)],
      },
    });
    expect(first.errors).toBeUndefined();
    const user = first.data?.createUser;
    if (user?.__typename !== 'CreateUserPayload') throw new Error(JSON.stringify(first));
    expect(user.user.teams?.edges.map((e) => e.node.name).sort()).toEqual(['QA', 'Security']);
    expect(user.user.roles?.edges.map((e) => e.node.name)).toEqual(['Admins']);
    // Every membership holds upstream, whichever way it was made.
    expect(stack.emulator.store.groupsOf(user.user.keeperId).sort()).toEqual(
      [security.id, qa.id, admins.id].sort(),
    );
    expect(writes(stack).sort()).toEqual(
      strict
        ? [
            `PATCH /Groups/${admins.id}`,
            `PATCH /Groups/${qa.id}`,
            `PATCH /Groups/${security.id}`,
            'POST /Users',
          ].sort()
        : ['POST /Users'],
    );
    expect((await capabilities())?.userGroupsOnCreate).toBe(strict ? 'ignored' : 'applied');

    // Learned: the next create goes the same way, and still makes the membership.
    stack.resetLog();
    const second = await stack.run(CreateUserDocument, {
      input: { userName: `second.${profile}@acme.example`, teamIds: [teamGid(qa.id)] },
    });
    expect(second.data?.createUser.__typename).toBe('CreateUserPayload');
    expect(writes(stack)).toEqual(
      strict ? ['POST /Users', `PATCH /Groups/${qa.id}`] : ['POST /Users'],
    );
    const secondUser = stack.emulator.store.findUserByUserName(`second.${profile}@acme.example`);
    expect(stack.emulator.store.groupsOf(secondUser?.id ?? '')).toEqual([qa.id]);
  });

  it('createUser with a team that does not exist writes nothing', async () => {
    const missing = 'AAAAAAAAAAAAAAAAAAAAAA';
    const result = await stack.run(CreateUserDocument, {
      input: {
        userName: `ghost.${profile}@acme.example`,
        teamIds: [teamGid(seededGroup(stack, 'QA').id), teamGid(missing)],
      },
    });
    expect(result.data?.createUser).toMatchObject({
      __typename: 'NotFoundError',
      keeperId: missing,
      message: strict
        ? `No Team with id ${teamGid(missing)} (upstream id ${missing}) in the SCIM upstream.`
        : `No Team with id ${teamGid(missing)} (Keeper id ${missing}) in this Keeper node.`,
    });
    expect(writes(stack)).toEqual([]);
    expect(
      stack.emulator.store.findUserByUserName(`ghost.${profile}@acme.example`),
    ).toBeUndefined();
  });

  it('addTeamMembers names the unknown user, and writes nothing on rfc-strict', async () => {
    const qa = seededGroup(stack, 'QA');
    const known = seededUser(stack, 'yusuf.hoffmann@acme.example');
    const result = await stack.run(AddTeamMembersDocument, {
      input: { teamId: teamGid(qa.id), userIds: [userGid(known.id), userGid('777777')] },
    });
    expect(result.data?.addTeamMembers).toMatchObject({
      __typename: 'NotFoundError',
      typename: 'User',
      keeperId: '777777',
    });
    // Keeper's 404 is named after the PATCH; another server's members are checked before it.
    expect(writes(stack)).toEqual(strict ? [] : [`PATCH /Groups/${qa.id}`]);
    expect(stack.emulator.store.membersOf(qa.id)).not.toContain(known.id);
  });

  it('names the SCIM upstream in top-level errors unless it is Keeper', async () => {
    stack.emulator.faults.enqueue({ method: 'GET', path: /^\/Users/, fault: 500, times: 5 });
    const result = await stack.run(UserLookupDocument, { userName: 'anyone@acme.example' });
    expect(result.errors?.[0]).toMatchObject({
      message: strict
        ? 'The SCIM upstream could not be reached or failed; retry later.'
        : 'The Keeper SCIM endpoint could not be reached or failed; retry later.',
      extensions: { code: 'UPSTREAM_UNAVAILABLE' },
    });
  });

  it('deprovisionUser says LOCKED or DELETED, and a repeat answers the same', async () => {
    const user = seededUser(stack, 'nora.haddad@acme.example');
    const expected = strict
      ? { state: 'DELETED', user: null }
      : { state: 'LOCKED', user: { keeperId: user.id, active: false } };
    for (const attempt of [1, 2]) {
      const result = await stack.run(DeprovisionUserDocument, { input: { id: userGid(user.id) } });
      expect(result.errors, `attempt ${attempt}`).toBeUndefined();
      expect(result.data?.deprovisionUser).toMatchObject({
        __typename: 'DeprovisionUserPayload',
        deprovisionedUserId: userGid(user.id),
        replayed: false,
        ...expected,
      });
    }
    expect(stack.emulator.store.getUser(user.id)?.active).toBe(strict ? undefined : false);
    expect((await capabilities())?.userDelete).toBe(strict ? 'deletes' : 'locks');
  });

  it('replays a keyed deprovisionUser with the same state', async () => {
    const user = seededUser(stack, 'liam.kowalski@acme.example');
    const input = { id: userGid(user.id), clientMutationId: `leaver-${profile}` };
    const first = await stack.run(DeprovisionUserDocument, { input });
    stack.resetLog();
    const again = await stack.run(DeprovisionUserDocument, { input });
    expect(again.data?.deprovisionUser).toMatchObject({
      replayed: true,
      state: strict ? 'DELETED' : 'LOCKED',
      user: strict ? null : { keeperId: user.id },
    });
    expect(first.data?.deprovisionUser).toMatchObject({ replayed: false });
    expect(writes(stack)).toEqual([]);
  });
});

describe('a createUser whose membership PATCH fails on an upstream that ignores groups', () => {
  let stack: Stack;
  beforeAll(async () => {
    stack = await startStack({ emulator: { profile: 'rfc-strict' } });
  });
  afterAll(() => stack.close());

  it('removes the user it created, so that "failed" still means "not written"', async () => {
    const qa = seededGroup(stack, 'QA');
    stack.emulator.faults.enqueue({
      method: 'PATCH',
      path: `/Groups/${qa.id}`,
      fault: 503,
      times: 5,
    });
    const result = await stack.run(CreateUserDocument, {
      input: { userName: 'half.done@acme.example', teamIds: [teamGid(qa.id)] },
    });
    expect(result.errors?.[0]?.extensions).toMatchObject({ code: 'UPSTREAM_UNAVAILABLE' });
    expect(writes(stack)).toEqual([
      'POST /Users',
      `PATCH /Groups/${qa.id}`,
      `PATCH /Groups/${qa.id}`,
      `PATCH /Groups/${qa.id}`,
      expect.stringMatching(/^DELETE \/Users\/\d+$/),
    ]);
    expect(stack.emulator.store.findUserByUserName('half.done@acme.example')).toBeUndefined();

    // A repeat, once the upstream is well, onboards the user with the membership.
    stack.emulator.faults.clear();
    const repeat = await stack.run(CreateUserDocument, {
      input: { userName: 'half.done@acme.example', teamIds: [teamGid(qa.id)] },
    });
    expect(repeat.data?.createUser.__typename).toBe('CreateUserPayload');
    const user = stack.emulator.store.findUserByUserName('half.done@acme.example');
    expect(stack.emulator.store.groupsOf(user?.id ?? '')).toEqual([qa.id]);
  });
});
