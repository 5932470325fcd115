import { defineConfig } from 'vitest/config';

export default defineConfig({
  resolve: {
    // graphql 16 ships CJS (index.js, what Node and therefore Pothos/Yoga load) and ESM
    // (index.mjs, what Vite prefers). Two copies break `instanceof` checks ("Duplicate graphql
    // modules"), so tests resolve the same file Node does.
    alias: [{ find: /^graphql$/, replacement: 'graphql/index.js' }],
  },
  test: {
    // Every suite starts its own emulator on 127.0.0.1:0, so files can run in parallel safely.
    testTimeout: 30_000,
    hookTimeout: 30_000,
    pool: 'forks',
    projects: [
      { extends: true, test: { name: 'keeper', include: ['test/**/*.test.ts'] } },
      // The mutation suite again, against a generic RFC 7644 server instead of Keeper
      // (test/helpers.ts reads the profile; see the emulator's `rfc-strict` profile).
      {
        extends: true,
        test: {
          name: 'rfc-strict',
          include: ['test/mutations/**/*.test.ts'],
          env: { TEST_UPSTREAM_PROFILE: 'rfc-strict' },
        },
      },
    ],
  },
});
