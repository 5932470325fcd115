import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    // Every suite starts its own emulator on 127.0.0.1:0, so files can run in parallel safely.
    testTimeout: 20_000,
    hookTimeout: 20_000,
    pool: 'forks',
  },
});
