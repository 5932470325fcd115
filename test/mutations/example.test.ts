import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { onboardUser, type Person } from '../../examples/onboard-user.ts';
import { type Stack, startStack } from '../helpers.ts';

// examples/onboard-user.ts, run against the facade in-process (app.fetch instead of a socket).

const grace: Person = {
  hrId: 'HR-000042',
  email: 'grace.hopper@acme.example',
  displayName: 'Grace Hopper',
  givenName: 'Grace',
  familyName: 'Hopper',
  teams: ['Engineering', 'Security'],
  roles: ['Auditors'],
};

describe('examples/onboard-user.ts', () => {
  let stack: Stack;
  beforeAll(async () => {
    stack = await startStack();
  });
  afterAll(() => stack.close());
  beforeEach(() => {
    stack.emulator.faults.clear();
    stack.resetLog();
  });

  const options = () => ({
    endpoint: 'http://facade.test/graphql',
    fetch: async (url: string, init: RequestInit) => stack.app.fetch(url, init),
    retryDelayMs: 0,
  });

  it('onboards a person into teams and a role, and a repeat is a replay', async () => {
    const first = await onboardUser(grace, options());
    expect(first).toMatchInlineSnapshot(`
      {
        "replayed": false,
        "status": "created",
        "user": {
          "active": true,
          "id": "VXNlcjozNDUwNzQ4NTI0MzAzNzI=",
          "keeperId": "345074852430372",
          "roles": {
            "edges": [
              {
                "node": {
                  "name": "Auditors",
                },
              },
            ],
          },
          "teams": {
            "edges": [
              {
                "node": {
                  "name": "Engineering",
                },
              },
              {
                "node": {
                  "name": "Security",
                },
              },
            ],
          },
          "userName": "grace.hopper@acme.example",
        },
      }
    `);
    const again = await onboardUser(grace, options());
    expect(again).toMatchObject({ status: 'created', replayed: true });
    expect(stack.upstreamCalls().filter((c) => c.method === 'POST')).toHaveLength(1);
  });

  it('still onboards exactly once when the facade’s create is answered with a reset', async () => {
    const ada = { ...grace, hrId: 'HR-000043', email: 'ada.l@acme.example', displayName: 'Ada L.' };
    stack.emulator.faults.enqueue({
      method: 'POST',
      path: '/Users',
      fault: 'reset-before-apply',
      times: 2,
    });
    const result = await onboardUser(ada, options());
    expect(result).toMatchObject({ status: 'created', replayed: false });
    expect(
      stack.emulator.store.listUsers().filter((u) => u.userName === 'ada.l@acme.example'),
    ).toHaveLength(1);
  });

  it('reports an unknown team without inviting anyone', async () => {
    const result = await onboardUser({ ...grace, hrId: 'HR-1', teams: ['Nope'] }, options());
    expect(result).toEqual({ status: 'rejected', reason: 'no team "Nope"' });
    expect(stack.upstreamCalls().filter((c) => c.method === 'POST')).toEqual([]);
  });
});
