import type { CodegenConfig } from '@graphql-codegen/cli';

// `npm run codegen` (offline): typed documents for the operations in test/operations, examples/
// and the GraphiQL examples, generated from the committed schema.graphql (which `npm run schema`
// prints from the Pothos schema; test/schema/schema.test.ts fails when it drifts). CI regenerates
// and fails on any difference, so the committed test/generated/ is always current.
//
// The GraphiQL examples (src/graphiql.graphql) are typed into their own folder: their operation
// names (OnboardUser, UsersWithTeamsAndRoles, ...) repeat some of the tests' and examples/', and
// names must be unique within one output. An example that no longer fits the schema fails here.
const typedDocuments = {
  preset: 'client',
  presetConfig: { fragmentMasking: false },
  config: { useTypeImports: true, enumsAsTypes: true, scalars: { ID: 'string' } },
} as const;

const config: CodegenConfig = {
  schema: 'schema.graphql',
  ignoreNoDocuments: false,
  // ESM imports with extensions, as NodeNext module resolution requires.
  emitLegacyCommonJSImports: false,
  generates: {
    'test/generated/': {
      ...typedDocuments,
      documents: ['test/operations/**/*.graphql', 'examples/**/*.graphql'],
    },
    'test/generated/graphiql/': { ...typedDocuments, documents: ['src/graphiql.graphql'] },
  },
};

export default config;
