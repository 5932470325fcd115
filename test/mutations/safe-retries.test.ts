import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { CreateTeamDocument, CreateUserDocument } from '../generated/graphql.ts';
import { type Stack, startStack } from '../helpers.ts';
import { calls } from './helpers.ts';

// Creates are never repeated blindly (src/directory/writes/create.ts): after a lost answer the facade
// looks the object up, and only a look-up that proves it absent allows one more POST.

describe('creates with a lost answer', () => {
  let stack: Stack;
  beforeAll(async () => {
    stack = await startStack();
  });
  afterAll(() => stack.close());
  beforeEach(() => {
    stack.emulator.faults.clear();
    stack.resetLog();
  });

  const usersNamed = (userName: string) =>
    stack.emulator.store
      .listUsers()
      .filter((u) => u.userName.toLowerCase() === userName.toLowerCase());

  it('returns the user when the connection was reset after Keeper applied the create', async () => {
    stack.emulator.faults.enqueue({ method: 'POST', path: '/Users', fault: 'reset-after-apply' });
    const result = await stack.run(CreateUserDocument, {
      input: { userName: 'reset.after@acme.example', displayName: 'Reset After' },
    });
    expect(result.data?.createUser).toMatchObject({
      __typename: 'CreateUserPayload',
      user: { userName: 'reset.after@acme.example', displayName: 'Reset After', active: true },
    });
    expect(usersNamed('reset.after@acme.example')).toHaveLength(1);
    expect(calls(stack).slice(0, 2)).toEqual([
      'POST /Users 0',
      'GET /Users?filter=userName eq "reset.after@acme.example"&startIndex=1&count=10 200',
    ]);
    expect(calls(stack).filter((c) => c.startsWith('POST'))).toHaveLength(1);
  });

  it('creates once more when the look-up proves a reset request was not applied', async () => {
    stack.emulator.faults.enqueue({ method: 'POST', path: '/Users', fault: 'reset-before-apply' });
    const result = await stack.run(CreateUserDocument, {
      input: { userName: 'reset.before@acme.example' },
    });
    expect(result.data?.createUser.__typename).toBe('CreateUserPayload');
    expect(usersNamed('reset.before@acme.example')).toHaveLength(1);
    expect(calls(stack).slice(0, 3)).toEqual([
      'POST /Users 0',
      'GET /Users?filter=userName eq "reset.before@acme.example"&startIndex=1&count=10 200',
      'POST /Users 201',
    ]);
  });

  it('looks up after a 503 before creating again', async () => {
    stack.emulator.faults.enqueue({ method: 'POST', path: '/Users', fault: 503 });
    const result = await stack.run(CreateUserDocument, {
      input: { userName: 'five.o.three@acme.example' },
    });
    expect(result.data?.createUser.__typename).toBe('CreateUserPayload');
    expect(
      calls(stack)
        .map((c) => c.split(' ')[0])
        .slice(0, 3),
    ).toEqual(['POST', 'GET', 'POST']);
    expect(usersNamed('five.o.three@acme.example')).toHaveLength(1);
  });

  it('reports a 429 as a top-level RATE_LIMITED error: Keeper refused it, nothing was created', async () => {
    stack.emulator.faults.enqueue({ method: 'POST', path: '/Users', fault: 429 });
    const result = await stack.run(CreateUserDocument, {
      input: { userName: 'limited@acme.example' },
    });
    expect({ data: result.data, errors: result.errors }).toMatchInlineSnapshot(`
      {
        "data": null,
        "errors": [
          {
            "extensions": {
              "code": "RATE_LIMITED",
              "retryAfter": 1,
              "upstream": {
                "status": 429,
              },
            },
            "locations": [
              {
                "column": 3,
                "line": 2,
              },
            ],
            "message": "Keeper is rate limiting this service; retry later.",
            "path": [
              "createUser",
            ],
          },
        ],
      }
    `);
    expect(calls(stack)).toEqual(['POST /Users 429']);
    expect(usersNamed('limited@acme.example')).toHaveLength(0);
  });

  it('answers OutcomeUnknownError after two unknown attempts, and the keyed repeat settles it', async () => {
    stack.emulator.faults.enqueue({
      method: 'POST',
      path: '/Users',
      fault: 'reset-before-apply',
      times: 2,
    });
    const input = { userName: 'twice.reset@acme.example', clientMutationId: 'onboard-twice-reset' };
    const first = await stack.run(CreateUserDocument, { input });
    expect(first.data).toMatchInlineSnapshot(`
      {
        "createUser": {
          "__typename": "OutcomeUnknownError",
          "lookup": "userName "twice.reset@acme.example"",
          "message": "The User may or may not have been created: the connection failed after the request was sent (ECONNRESET) on 2 attempts. Look it up by userName "twice.reset@acme.example" before trying again, or repeat the call with the same idempotency key, which looks it up first.",
          "typename": "User",
        },
      }
    `);
    expect(usersNamed(input.userName)).toHaveLength(0);

    stack.resetLog();
    const repeat = await stack.run(CreateUserDocument, { input });
    expect(repeat.data?.createUser).toMatchObject({
      __typename: 'CreateUserPayload',
      replayed: false,
      user: { userName: input.userName },
    });
    // The repeat looks first (an earlier attempt may have landed), then creates.
    expect(
      calls(stack)
        .slice(0, 3)
        .map((c) => c.split(' ')[0]),
    ).toEqual(['GET', 'POST', 'GET']);
    expect(usersNamed(input.userName)).toHaveLength(1);
  });

  it('returns the user a keyed repeat finds, without creating it again', async () => {
    // The create lands but its answer is lost, and the look-up fails too (three 500s).
    stack.emulator.faults.enqueue({ method: 'POST', path: '/Users', fault: 'reset-after-apply' });
    stack.emulator.faults.enqueue({ method: 'GET', path: '/Users', fault: 500, times: 3 });
    const input = { userName: 'landed.late@acme.example', clientMutationId: 'onboard-landed-late' };
    const first = await stack.run(CreateUserDocument, { input });
    expect(first.data?.createUser).toMatchObject({
      __typename: 'OutcomeUnknownError',
      typename: 'User',
      lookup: 'userName "landed.late@acme.example"',
    });
    expect(usersNamed(input.userName)).toHaveLength(1);

    stack.resetLog();
    const repeat = await stack.run(CreateUserDocument, { input });
    expect(repeat.data?.createUser).toMatchObject({
      __typename: 'CreateUserPayload',
      user: { userName: input.userName },
    });
    expect(calls(stack).filter((c) => c.startsWith('POST'))).toEqual([]);
    expect(usersNamed(input.userName)).toHaveLength(1);
  });

  it('never sends a team create twice in one call: Keeper allows two teams with one name', async () => {
    stack.emulator.faults.enqueue({ method: 'POST', path: '/Groups', fault: 503 });
    const teamsNamed = (name: string) =>
      stack.emulator.store.listTeams().filter((t) => t.displayName === name);
    const input = { name: 'Gateway Timeout', clientMutationId: 'team-gateway-timeout' };
    const first = await stack.run(CreateTeamDocument, { input });
    expect(first.data?.createTeam.__typename).toBe('OutcomeUnknownError');
    expect(calls(stack).filter((c) => c.startsWith('POST'))).toEqual(['POST /Groups 503']);
    expect(teamsNamed('Gateway Timeout')).toHaveLength(0);

    // The keyed repeat checks the name is free, looks first, finds nothing, and only then
    // creates.
    stack.resetLog();
    const repeat = await stack.run(CreateTeamDocument, { input });
    expect(repeat.data?.createTeam).toMatchObject({
      __typename: 'CreateTeamPayload',
      team: { name: 'Gateway Timeout' },
    });
    expect(
      calls(stack)
        .map((c) => c.split(' ')[0])
        .slice(0, 3),
    ).toEqual(['GET', 'GET', 'POST']);
    expect(teamsNamed('Gateway Timeout')).toHaveLength(1);
  });

  it('settles a lost team create by its externalId, also across a keyed repeat', async () => {
    stack.emulator.faults.enqueue({ method: 'POST', path: '/Groups', fault: 'reset-after-apply' });
    stack.emulator.faults.enqueue({ method: 'GET', path: '/Groups', fault: 500, times: 3 });
    // allowDuplicateName: no name check, so the scripted GET faults hit the look-ups.
    const input = {
      name: 'Night Shift',
      clientMutationId: 'team-night-shift',
      allowDuplicateName: true,
    };
    const first = await stack.run(CreateTeamDocument, { input });
    expect(first.data?.createTeam.__typename).toBe('OutcomeUnknownError');
    const repeat = await stack.run(CreateTeamDocument, { input });
    expect(repeat.data?.createTeam).toMatchObject({
      __typename: 'CreateTeamPayload',
      team: { name: 'Night Shift', members: { totalCount: 0 } },
    });
    // Keeper allows two teams with one name; the generated externalId, derived from the key,
    // is what makes the repeat find the first one.
    expect(
      stack.emulator.store.listTeams().filter((t) => t.displayName === 'Night Shift'),
    ).toHaveLength(1);
    expect(calls(stack).filter((c) => c.startsWith('POST'))).toEqual(['POST /Groups 0']);
  });
});

describe('creates that time out', () => {
  let stack: Stack;
  beforeAll(async () => {
    // A short deadline makes a hung POST a timeout quickly; nothing here asserts on time.
    stack = await startStack({ client: { requestTimeoutMs: 300 } });
  });
  afterAll(() => stack.close());

  it('never creates again after a timeout: the request may still land', async () => {
    stack.emulator.faults.enqueue({ method: 'POST', path: '/Users', fault: 'hang' });
    const result = await stack.run(CreateUserDocument, {
      input: { userName: 'slow@acme.example' },
    });
    expect(result.data?.createUser).toMatchObject({
      __typename: 'OutcomeUnknownError',
      lookup: 'userName "slow@acme.example"',
    });
    expect(stack.upstreamCalls().map((c) => c.method)).toEqual(['POST', 'GET']);
  });
});
