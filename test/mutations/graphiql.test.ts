import { type OperationDefinitionNode, parse, print } from 'graphql';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { EXAMPLE_OPERATIONS } from '../../src/graphiql.ts';
import { type Stack, startStack } from '../helpers.ts';

// The mutations GraphiQL opens with must work on the demo data as they are, in the order shown.

const mutations = parse(EXAMPLE_OPERATIONS).definitions.filter(
  (d): d is OperationDefinitionNode =>
    d.kind === 'OperationDefinition' && d.operation === 'mutation',
);

describe('GraphiQL example mutations', () => {
  let stack: Stack;
  beforeAll(async () => {
    stack = await startStack();
  });
  afterAll(() => stack.close());

  const run = async (operation: OperationDefinitionNode) => {
    const response = await stack.app.fetch('http://facade.test/graphql', {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ query: print(operation) }),
    });
    return (await response.json()) as {
      data?: Record<string, { __typename: string } & Record<string, unknown>>;
      errors?: unknown;
    };
  };

  it('shows the main mutations', () => {
    const fields = mutations.flatMap((m) =>
      m.selectionSet.selections.flatMap((s) => (s.kind === 'Field' ? [s.name.value] : [])),
    );
    expect(fields).toEqual(
      expect.arrayContaining([
        'createUser',
        'lockUser',
        'deprovisionUser',
        'createTeam',
        'addTeamMembers',
        'assignRole',
      ]),
    );
  });

  it.each(mutations.map((m) => [m.name?.value ?? 'anonymous', m] as const))(
    'runs %s on the demo data and gets its payload',
    async (_name, operation) => {
      const result = await run(operation);
      expect(result.errors).toBeUndefined();
      for (const value of Object.values(result.data ?? {})) {
        expect(value.__typename).toMatch(/Payload$/);
      }
    },
  );

  it('replays OnboardUser the second time, thanks to its clientMutationId', async () => {
    const onboard = mutations.find((m) => m.name?.value === 'OnboardUser');
    if (!onboard) throw new Error('OnboardUser example missing');
    // The first run (here, or the one above when the whole file runs) creates the user.
    expect((await run(onboard)).errors).toBeUndefined();
    stack.resetLog();
    const again = await run(onboard);
    expect(again.data?.['createUser']).toMatchObject({
      __typename: 'CreateUserPayload',
      replayed: true,
    });
    expect(stack.upstreamCalls().filter((c) => c.method === 'POST')).toEqual([]);
  });
});
