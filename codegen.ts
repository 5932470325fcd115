import type { CodegenConfig } from '@graphql-codegen/cli';

// `npm run codegen` (offline): typed documents for the operations in test/operations and
// examples/, generated from the committed schema.graphql (which `npm run schema` prints from the
// Pothos schema; test/schema/schema.test.ts fails when it drifts). CI regenerates and fails on
// any difference, so the committed test/generated/ is always current.
const config: CodegenConfig = {
  schema: 'schema.graphql',
  documents: ['test/operations/**/*.graphql', 'examples/**/*.graphql'],
  ignoreNoDocuments: false,
  // ESM imports with extensions, as NodeNext module resolution requires.
  emitLegacyCommonJSImports: false,
  generates: {
    'test/generated/': {
      preset: 'client',
      presetConfig: { fragmentMasking: false },
      config: { useTypeImports: true, enumsAsTypes: true, scalars: { ID: 'string' } },
    },
  },
};

export default config;
