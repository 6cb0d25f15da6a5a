import { defineConfig } from 'vitest/config';

/** `npm run mutation`: the unit tests of the core's rules that need no database (stryker.config.mjs). */
export default defineConfig({
  test: {
    include: [
      'abuse-limits', 'alert-dedup', 'buy-path', 'credentials', 'cursors', 'delivery-batches', 'order-batcher',
      'password-hash', 'password-strength', 'proof-of-work', 'rate-limit', 'sold-out-signs', 'token-versions',
    ].map((name) => `src/core/${name}.test.ts`),
    // A mutant that leaves a promise hanging is found by its test timing out: soon, not after a minute.
    testTimeout: 10_000,
    hookTimeout: 10_000,
    pool: 'forks',
  },
});
