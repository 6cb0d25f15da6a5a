// @ts-check
/**
 * Lint: typescript-eslint with type information, plus the dependency rule as import restrictions.
 *
 * Strictness, decided per kind of code:
 * - The product (src/, web/src/): `strictTypeChecked`, tuned where a rule fights an idiom we keep on purpose
 *   (numbers in template strings; `async` port methods of the in-process adapters that never await but
 *   must still answer a promise and turn a throw into a rejection).
 * - Tests, bench, chaos and scripts: `recommendedTypeChecked`. The strict set drowned them in `x!` on
 *   fixtures a test has just made (a wrong `!` fails the test anyway) and in `any` from the JSON a test
 *   reads off the wire to assert its shape; end-to-end tests may read that JSON loosely.
 *
 * The dependency rule (docs/design.md; the import graph itself is checked by .dependency-cruiser.cjs): src/core imports no adapter, entry point,
 * composition root (src/app, with the config) or I/O library; src/adapters import no entry point nor src/app;
 * src/shared imports nothing of the product; the bench and chaos import no test helper (what they share
 * with the tests lives in support/).
 */
import js from '@eslint/js';
import tseslint from 'typescript-eslint';
import globals from 'globals';

const IO_MODULES = [
  'node:fs', 'node:fs/*', 'fs', 'fs/*', 'node:net', 'net', 'node:http', 'http', 'node:https', 'https',
  'node:http2', 'node:dgram', 'node:child_process', 'child_process', 'node:cluster', 'node:worker_threads',
  'node:dns', 'node:tls', 'node:os', 'node:process', 'pg', 'pg-*', '@electric-sql/*', 'ioredis', 'amqplib',
  'ws', 'fastify', 'fastify-*', '@fastify/*', 'pino', 'pino-*', 'prom-client', 'rate-limiter-flexible',
];

const NO_TESTS = { group: ['**/test/**', '**/support/**', '**/bench/**', '**/chaos/**'], message: 'the product does not import tests, their helpers, the bench or chaos.' };

const PRODUCT = ['src/**/*.{ts,tsx}', 'web/src/**/*.{ts,tsx}'];
const TESTS_AND_TOOLS = [
  '**/*.test.ts', '**/*.contract.ts', '**/*.fixture.ts', 'test/**/*.ts', 'support/**/*.ts', 'bench/**/*.ts', 'chaos/**/*.ts', 'scripts/**/*.{js,mjs}',
];

const tunedRules = {
  '@typescript-eslint/restrict-template-expressions': ['error', { allowNumber: true, allowBoolean: true }],
  '@typescript-eslint/no-confusing-void-expression': ['error', { ignoreArrowShorthand: true }],
  // An in-process adapter's `async` method without await is how it keeps the port's promise contract.
  '@typescript-eslint/require-await': 'off',
  // Ports are implemented by closures over their state, never `this`, so passing a method on is safe.
  '@typescript-eslint/unbound-method': 'off',
  // A JSX event handler may be async: the page catches inside (preact ignores the promise).
  '@typescript-eslint/no-misused-promises': ['error', { checksVoidReturn: { attributes: false } }],
  '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
};

export default tseslint.config(
  { ignores: ['dist/**', 'web/dist/**', 'bench/results/**', 'node_modules/**', '.seckill-data/**'] },
  js.configs.recommended,
  {
    languageOptions: {
      parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname },
      globals: { ...globals.node },
    },
  },
  {
    files: PRODUCT,
    extends: [tseslint.configs.strictTypeChecked],
    rules: {
      ...tunedRules,
      // With noUncheckedIndexedAccess, `xs[i]!` after a bounds check or a lookup of a key just put is the
      // idiom; the rule would trade each for a cast or a dead throw.
      '@typescript-eslint/no-non-null-assertion': 'off',
    },
  },
  {
    files: TESTS_AND_TOOLS,
    extends: [tseslint.configs.recommendedTypeChecked],
    rules: {
      ...tunedRules,
      '@typescript-eslint/no-non-null-assertion': 'off',
      '@typescript-eslint/no-unnecessary-condition': 'off',
      '@typescript-eslint/no-confusing-void-expression': 'off',
      '@typescript-eslint/no-unnecessary-type-parameters': 'off',
      // vitest's asymmetric matchers (`expect.any(Number)`) are typed `any`.
      '@typescript-eslint/no-unsafe-assignment': 'off',
      '@typescript-eslint/no-unsafe-argument': 'off',
    },
  },
  {
    files: ['test/e2e/**/*.ts', 'src/entry-points/**/*.test.ts', 'src/**/*.int.test.ts', 'test/support/**/*.ts'],
    rules: {
      '@typescript-eslint/no-unsafe-member-access': 'off',
      '@typescript-eslint/no-unsafe-assignment': 'off',
      '@typescript-eslint/no-unsafe-argument': 'off',
      '@typescript-eslint/no-unsafe-return': 'off',
      '@typescript-eslint/no-unsafe-call': 'off',
      '@typescript-eslint/no-explicit-any': 'off',
    },
  },
  { files: ['web/src/**/*.{ts,tsx}'], languageOptions: { globals: { ...globals.browser } } },
  { files: ['scripts/**/*.mjs', 'eslint.config.js'], extends: [tseslint.configs.disableTypeChecked] },
  // A later block's no-restricted-imports replaces an earlier one's, so each block lists the product-wide
  // pattern too.
  {
    files: ['src/**/*.ts'],
    ignores: ['src/**/*.test.ts', 'src/**/*.contract.ts', 'src/**/*.fixture.ts'],
    rules: { 'no-restricted-imports': ['error', { patterns: [NO_TESTS] }] },
  },
  {
    // Core's own tests run the use cases on the in-process adapters (STYLE: tests beside the code, on
    // embedded adapters), so they may import those; the rule binds the code they test.
    files: ['src/core/**/*.ts'],
    ignores: ['src/core/**/*.test.ts', 'src/core/**/*.contract.ts'],
    rules: {
      'no-restricted-imports': ['error', {
        patterns: [
          NO_TESTS,
          { group: ['**/adapters/**', '**/entry-points/**'], message: 'core imports no adapter or entry point: add a port in core/ports/.' },
          { group: ['**/app/**'], message: 'core does not see the composition root or config (src/app): take a value as an argument.' },
          { group: IO_MODULES, message: 'core does no I/O: reach the outside world through a port.' },
        ],
      }],
      'no-restricted-globals': ['error', ...['setTimeout', 'setInterval', 'setImmediate', 'queueMicrotask'].map((name) => ({
        name, message: 'core waits through the Timers port (core/ports/timers.ts), so tests can drive time by hand.',
      }))],
    },
  },
  {
    files: ['src/adapters/**/*.ts'],
    ignores: ['src/adapters/**/*.test.ts', 'src/adapters/**/*.contract.ts', 'src/adapters/**/*.fixture.ts'],
    rules: {
      'no-restricted-imports': ['error', {
        patterns: [
          NO_TESTS,
          { group: ['**/entry-points/**'], message: 'adapters import only core ports, model and errors, never an entry point.' },
          { group: ['**/app/**'], message: 'only the composition root (src/app) picks adapters; adapters never import it.' },
        ],
      }],
    },
  },
  {
    files: ['src/shared/**/*.ts'],
    ignores: ['src/shared/**/*.test.ts'],
    rules: {
      'no-restricted-imports': ['error', {
        patterns: [
          NO_TESTS,
          { group: ['**/core/**', '**/adapters/**', '**/entry-points/**', '**/app/**'], message: 'src/shared imports nothing of the product: every layer may use it.' },
        ],
      }],
    },
  },
  {
    files: ['bench/**/*.ts', 'chaos/**/*.ts'],
    rules: {
      'no-restricted-imports': ['error', {
        patterns: [{ group: ['**/test/**'], message: 'share helpers with the tests through support/, not test/.' }],
      }],
    },
  },
);
