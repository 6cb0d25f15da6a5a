// @ts-check
/**
 * `npm run mutation`: Stryker changes the sale's rules in src/core one mutant at a time and runs the core's
 * unit tests against each; a mutant no test notices is a rule without a test. The score and the mutants
 * left alive, with why, are in docs/testing.md. Slow (tens of minutes on two cores), so not part of CI.
 */
/** @type {import('@stryker-mutator/api/core').PartialStrykerOptions} */
export default {
  testRunner: 'vitest',
  vitest: { configFile: 'vitest.mutation.config.ts', related: true },
  mutate: ['src/core/**/*.ts', '!src/core/**/*.test.ts', '!src/core/**/*.fixture.ts', '!src/core/ports.ts', '!src/core/model.ts'],
  coverageAnalysis: 'perTest',
  checkers: [],
  reporters: ['clear-text', 'progress', 'html', 'json'],
  htmlReporter: { fileName: 'reports/mutation/index.html' },
  jsonReporter: { fileName: 'reports/mutation/mutation.json' },
  tempDirName: '.stryker-tmp',
  concurrency: 2,
  timeoutMS: 30_000,
  thresholds: { high: 80, low: 60, break: null },
};
