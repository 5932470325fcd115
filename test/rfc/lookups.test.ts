import { encodeGlobalID } from '@pothos/plugin-relay';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LookupsByNameDocument } from '../generated/graphql.ts';
import { type Stack, startStack } from '../helpers.ts';

// Lookups by userName and by team or role name compare without case on the facade's side,
// whatever the upstream does: the value is sent as given, and on an upstream that compares with
// case (against RFC 7643) a miss falls back to the request's user scan or Groups snapshot.

describe.each(['keeper', 'rfc-strict'] as const)('lookups by name on a %s upstream', (profile) => {
  let stack: Stack;
  let userId: string;
  let teamId: string;
  let roleId: string;
  beforeAll(async () => {
    stack = await startStack({ emulator: { profile } });
    const { store } = stack.emulator;
    userId = store.createUser({ userName: 'Mixed.Case@Example.com' }).id;
    teamId = store.createTeam({ displayName: 'Night Shift' }).id;
    roleId = store.createRole({ displayName: 'ROLE_Night Auditors' }).id;
  });
  afterAll(() => stack.close());

  it.each([
    ['the stored spelling', 'Mixed.Case@Example.com', 'Night Shift', 'Night Auditors'],
    ['another spelling', 'mixed.case@example.COM', 'NIGHT shift', 'night auditors'],
  ])('finds the user, team and role by %s', async (_label, userName, team, role) => {
    stack.resetLog();
    const result = await stack.run(LookupsByNameDocument, { userName, team, role });
    expect(result.errors).toBeUndefined();
    expect(result.data).toEqual({
      user: { keeperId: userId, userName: 'Mixed.Case@Example.com' },
      team: { keeperId: teamId, name: 'Night Shift' },
      role: { keeperId: roleId, name: 'Night Auditors' },
    });
    // The value goes upstream as given, never lower-cased.
    const sent = stack.upstreamCalls().map((c) => decodeURIComponent(c.path));
    expect(sent.filter((p) => p.includes('userName eq'))).toEqual([
      expect.stringContaining(`userName eq "${userName}"`),
    ]);
  });
});

describe('a name that several groups have', () => {
  let stack: Stack;
  let ids: string[];
  beforeAll(async () => {
    stack = await startStack();
    const { store } = stack.emulator;
    ids = [
      store.createTeam({ displayName: 'Twins' }).id,
      store.createTeam({ displayName: 'TWINS' }).id,
    ];
  });
  afterAll(() => stack.close());

  it('is BAD_USER_INPUT listing the candidates, not a silent pick', async () => {
    const result = await stack.run(LookupsByNameDocument, {
      userName: 'nobody@example.com',
      team: 'twins',
      role: 'Nobody',
    });
    const error = result.errors?.find((e) => e.extensions?.['argument'] === 'name');
    expect(error?.extensions).toMatchObject({
      code: 'BAD_USER_INPUT',
      argument: 'name',
      candidates: ids.map((id) => encodeGlobalID('Team', id)),
    });
    expect(error?.message).toContain(encodeGlobalID('Team', ids[0] ?? ''));
  });
});
