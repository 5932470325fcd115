import { defineConfig } from 'vitest/config';

export default defineConfig({
  resolve: {
    // graphql 16 ships CJS (index.js, what Node and therefore Pothos/Yoga load) and ESM
    // (index.mjs, what Vite prefers). Two copies break `instanceof` checks ("Duplicate graphql
    // modules"), so tests resolve the same file Node does.
    alias: [{ find: /^graphql$/, replacement: 'graphql/index.js' }],
  },
  test: {
    include: ['test/**/*.test.ts'],
    // Every suite starts its own emulator on 127.0.0.1:0, so files can run in parallel safely.
    testTimeout: 30_000,
    hookTimeout: 30_000,
    pool: 'forks',
  },
});
