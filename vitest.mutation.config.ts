import { defineConfig } from 'vitest/config';

/** `npm run mutation`: the core's own unit tests only (the mutants are in src/core). */
export default defineConfig({
  test: {
    include: ['src/core/**/*.test.ts'],
    testTimeout: 60_000,
    hookTimeout: 60_000,
    pool: 'forks',
  },
});
