// @ts-check
/**
 * `npm run mutation`: Stryker changes the sale's rules in src/core one mutant at a time and runs the core's
 * unit tests against each; a mutant no test notices is a rule without a test. The score and the mutants
 * left alive, with why, are in docs/testing.md. About a quarter of an hour on two cores, so not part of CI.
 */
const RULES = [
  'abuse-limits', 'alert-dedup', 'buy-path', 'credentials', 'cursors', 'delivery-batches', 'order-batcher',
  'password-strength', 'proof-of-work', 'rate-limit', 'sold-out-signs', 'token-versions',
];

/** @type {import('@stryker-mutator/api/core').PartialStrykerOptions} */
export default {
  testRunner: 'vitest',
  vitest: { configFile: 'vitest.mutation.config.ts', related: true },
  // The rules whose unit tests need no database (run in seconds); the use cases on the database are held by
  // their contract and end-to-end suites, which take minutes per mutant.
  mutate: RULES.map((name) => `src/core/${name}.ts`),
  coverageAnalysis: 'perTest',
  checkers: [],
  reporters: ['clear-text', 'progress', 'html', 'json'],
  htmlReporter: { fileName: 'reports/mutation/index.html' },
  jsonReporter: { fileName: 'reports/mutation/mutation.json' },
  tempDirName: '.stryker-tmp',
  concurrency: 1,
  timeoutMS: 5_000,
  thresholds: { high: 80, low: 60, break: null },
};
