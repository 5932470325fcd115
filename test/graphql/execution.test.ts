import { GraphQLError, getOperationAST } from 'graphql';
import { createSchema, createYoga, type Plugin } from 'graphql-yoga';
import { describe, expect, it } from 'vitest';
import { useCompiledQueries } from '../../src/execution.ts';

// Queries run compiled by graphql-jit (src/execution.ts) from their second run on; callers must not
// see a difference. The same operations go through a Yoga with the plugin (three times: once
// interpreted, then compiled) and one without, and the answers must be byte-for-byte the same,
// errors (message, locations, path, extensions) included.

/** Strings JSON must escape, or may be tempted to: quotes, backslashes, controls, separators, surrogates. */
const TEXTS = [
  'plain',
  '',
  'say "hi" \\ back\\slash',
  'tab\tnew\nline\rcr\u0000nul\u001fus\u007fdel',
  'line\u2028para\u2029sep',
  'é ünïcødé 漢字 😀',
  'lone \ud800 high, lone \udfff low, pair \ud83d\ude00',
  "</script><!-- & ' ",
  null,
];

const schema = createSchema({
  typeDefs: /* GraphQL */ `
    type Query {
      ok: String
      fails: String
      failsTyped: String
      failsLocated: String
      required: String!
      item(n: Int!): Item
      items: [Item]
      strict: Strict
      things: [Thing!]!
      texts: [String]
      numbers: [Float]
      counts: [Int!]!
      flags: [Boolean]
      colour: Colour
      nothing: Item
      nested: Nested!
    }
    enum Colour {
      RED
      GREEN
    }
    type Nested {
      id: ID!
      inner: Nested
      items: [Item!]!
      label: String
    }
    interface Thing {
      name: String!
    }
    type Gadget implements Thing {
      name: String!
      volts: Int
    }
    type Widget implements Thing {
      name: String!
      size: Int
    }
    type Item {
      n: Int
      label: String
    }
    type Strict {
      inner: String!
    }
    type Mutation {
      bump(by: Int!): Int
      failing: Int
    }
  `,
  resolvers: {
    Query: {
      ok: () => 'yes',
      fails: () => {
        throw new Error('plain failure');
      },
      failsTyped: () => {
        throw new GraphQLError('typed failure', { extensions: { code: 'UPSTREAM_UNAVAILABLE' } });
      },
      failsLocated: () => {
        throw new GraphQLError('located failure', { path: ['elsewhere'] });
      },
      required: () => null,
      item: (_: unknown, { n }: { n: number }) => ({ n }),
      items: () => [{ n: 1 }, { n: 2 }, { n: 3 }],
      strict: () => ({}),
      things: () => [
        { kind: 'Gadget', name: 'g', volts: 5 },
        { kind: 'Widget', name: 'w', size: 2 },
      ],
      texts: () => TEXTS,
      numbers: () => [0, -0, 0.1, 1e21, -1.5e-7, 123456789.125, Number.MAX_SAFE_INTEGER],
      counts: () => [0, -1, 2147483647, -2147483648],
      flags: () => [true, false, null],
      colour: () => 'GREEN',
      nothing: () => null,
      nested: () => ({
        id: 7,
        inner: { id: 'x"y', inner: null, items: [], label: null },
        items: [{ n: 1 }, { n: 3 }],
        label: 'outer',
      }),
    },
    Thing: { __resolveType: ({ kind }: { kind: string }) => kind },
    Item: {
      label: ({ n }: { n: number }) => {
        if (n === 2) throw Object.assign(new Error('second'), { extensions: { code: 'TWO' } });
        return `item ${n}`;
      },
    },
    Strict: { inner: async () => null },
    Mutation: {
      bump: (_: unknown, { by }: { by: number }) => by + 1,
      failing: () => {
        throw new Error('mutation failure');
      },
    },
  },
});

/** Adds `extensions` to answers of operations named `WithExtensions`, as the service's own plugins do. */
const withExtensions: Plugin = {
  onExecute({ args }) {
    if (getOperationAST(args.document, args.operationName)?.name?.value !== 'WithExtensions')
      return;
    return {
      onExecuteDone({ result, setResult }) {
        if (!('data' in result)) return;
        setResult({
          ...result,
          extensions: { ...result.extensions, directory: { asOf: '2026-01-01T00:00:00.000Z' } },
        });
      },
    };
  },
};

const plain = createYoga({
  schema,
  maskedErrors: false,
  logging: false,
  plugins: [withExtensions],
});
const compiledNames: (string | undefined)[] = [];
const compiled = createYoga({
  schema,
  maskedErrors: false,
  logging: false,
  plugins: [withExtensions, useCompiledQueries({ onCompile: (name) => compiledNames.push(name) })],
});

async function answer(
  yoga: typeof plain,
  query: string,
  variables?: Record<string, unknown>,
): Promise<string> {
  const response = await yoga.fetch('http://localhost/graphql', {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ query, variables }),
  });
  return response.text();
}

const operations: [string, string, Record<string, unknown>?][] = [
  ['a plain answer', '{ ok item(n: 4) { n label } }'],
  [
    'strings that need escaping, numbers, booleans, enums, ids and nulls',
    '{ texts numbers counts flags colour nothing { n } nested { id label inner { id inner { id } items { n } label } items { label n } } }',
  ],
  [
    'aliases, repeated fields and fragments, in the order of the selection',
    '{ b: nested { label id } a: nested { id ...N label } ok c: ok } fragment N on Nested { items { n } id }',
  ],
  ['extensions beside the data', 'query WithExtensions { ok nested { id } }'],
  ['extensions beside errors', 'query WithExtensions { ok fails }'],
  [
    'errors of resolvers, on several lines and columns',
    `{
  ok
     fails
  failsTyped
  alias: failsLocated
}`,
  ],
  ['a null in a non-null field, bubbling to its parent', '{ ok strict { inner } }'],
  ['a null at a non-null root field', '{ required ok }'],
  ['an error inside a list', '{ items { n label } }'],
  ['variables', 'query ($n: Int!) { item(n: $n) { n label } }', { n: 2 }],
  ['a variable of the wrong type', 'query ($n: Int!) { item(n: $n) { n } }', { n: 'two' }],
  ['a mutation (graphql-js)', 'mutation { bump(by: 1) failing }'],
  ['named operations', 'query A { ok } query B { fails }'],
  [
    'interfaces, inline fragments and fragment spreads',
    '{ things { __typename name ... on Gadget { volts } ...W } } fragment W on Widget { size }',
  ],
  [
    '@skip and @include by variables, on fields and fragments',
    `query ($on: Boolean!) {
  ok @skip(if: $on)
  item(n: 1) @include(if: $on) { n }
  things { ...G @include(if: $on) ... on Widget @skip(if: $on) { size } }
}
fragment G on Gadget { volts }`,
    { on: true },
  ],
  [
    '@skip and @include by variables, on fields and fragments, turned the other way',
    `query ($on: Boolean!) {
  ok @skip(if: $on)
  item(n: 1) @include(if: $on) { n }
  things { ...G @include(if: $on) ... on Widget @skip(if: $on) { size } }
}
fragment G on Gadget { volts }`,
    { on: false },
  ],
];

describe('compiled query execution', () => {
  it.each(operations)('answers %s exactly as graphql-js does', async (_, query, variables) => {
    const expected = await answer(plain, query, variables);
    for (let run = 1; run <= 3; run++) {
      expect(await answer(compiled, query, variables)).toBe(expected);
    }
  });

  it('compiles a query when it comes back, once, and never a mutation', async () => {
    compiledNames.length = 0;
    const query = 'query Once { ok }';
    await answer(compiled, query);
    expect(compiledNames).toEqual([]);
    await answer(compiled, query);
    await answer(compiled, query);
    expect(compiledNames).toHaveLength(1);
    for (let run = 0; run < 3; run++) await answer(compiled, 'mutation Bump { bump(by: 1) }');
    expect(compiledNames).toHaveLength(1);
  });

  it('keeps the locations and paths of errors that graphql-jit reports without nodes', async () => {
    await answer(compiled, '{\n  ok\n     fails\n}');
    const body = JSON.parse(await answer(compiled, '{\n  ok\n     fails\n}')) as {
      errors: { locations: unknown; path: unknown }[];
    };
    expect(body.errors).toEqual([
      expect.objectContaining({ locations: [{ line: 3, column: 6 }], path: ['fails'] }),
    ]);
  });
});
