import { readFileSync } from 'node:fs';

// The document GraphiQL opens with: working example operations over the demo data
// (docs/design.md: "GraphiQL opens with working example operations"). Each runs as it is.
// They live in graphiql.graphql, which `npm run codegen` validates against the schema (an example
// that no longer fits it fails codegen and CI); the build copies it beside the compiled module
// (scripts/ensure-build.mjs), so this works from src/ (tsx), from dist/ and in the container.

export const EXAMPLE_OPERATIONS = readFileSync(
  new URL('./graphiql.graphql', import.meta.url),
  'utf8',
);
