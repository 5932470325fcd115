import { type OperationDefinitionNode, parse, print } from 'graphql';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { EXAMPLE_OPERATIONS } from '../../src/graphiql.ts';
import { type Stack, startStack } from '../helpers.ts';

describe('GraphiQL', () => {
  let stack: Stack;
  beforeAll(async () => {
    // The page as served in production: with the directory mirror (MIRROR=on, the default).
    stack = await startStack({ env: { MIRROR: 'on' } });
  });
  afterAll(() => stack.close());

  it('is served self-contained, with no CDN, opening on the example operations', async () => {
    const response = await stack.app.fetch('http://facade.test/graphql', {
      headers: { accept: 'text/html' },
    });
    expect(response.status).toBe(200);
    const html = await response.text();
    expect(html).not.toMatch(/unpkg\.com|jsdelivr|cdn\./);
    expect(html).toContain('UsersWithTeamsAndRoles');
  });

  const queries = parse(EXAMPLE_OPERATIONS).definitions.filter(
    (d): d is OperationDefinitionNode =>
      d.kind === 'OperationDefinition' && d.operation === 'query',
  );

  it.each(queries.map((q) => [q.name?.value ?? 'anonymous', q] as const))(
    'runs the example query %s on the demo data',
    async (_name, operation) => {
      const response = await stack.app.fetch('http://facade.test/graphql', {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ query: print(operation) }),
      });
      const result = (await response.json()) as {
        data?: Record<string, unknown>;
        errors?: unknown;
      };
      expect(result.errors).toBeUndefined();
      // Every top-level field finds something: the examples point at real demo objects.
      for (const value of Object.values(result.data ?? {})) expect(value).not.toBeNull();
    },
  );
});
