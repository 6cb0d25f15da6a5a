/**
 * The import graph's rules (`npm run lint` runs them after eslint): no import circle anywhere, and the
 * layers of docs/design.md — core imports only core; adapters import core, never an entry point or the
 * composition root; entry points never pick an adapter; the product never imports tests, the bench or
 * chaos. Type-only imports count: a circle of types is still a circle to read.
 */
const PRODUCT = '^src/';
const TEST_FILE = '[.](test|contract|fixture)[.]ts$';

module.exports = {
  forbidden: [
    { name: 'no-circular', severity: 'error', comment: 'An import circle: split the shared part into a module both import.', from: {}, to: { circular: true } },
    {
      name: 'core-imports-only-core',
      severity: 'error',
      comment: 'core holds the rules: it reaches the outside world through its ports (core/ports).',
      from: { path: '^src/core/', pathNot: TEST_FILE },
      to: { pathNot: ['^src/core/', '^node_modules/'], dependencyTypesNot: ['core'] },
    },
    {
      name: 'core-uses-no-io-library',
      severity: 'error',
      from: { path: '^src/core/', pathNot: TEST_FILE },
      to: { path: 'node_modules/(pg|@electric-sql|ioredis|amqplib|ws|fastify|@fastify|pino|prom-client|rate-limiter-flexible)/' },
    },
    {
      name: 'adapters-import-no-entry-point-or-root',
      severity: 'error',
      from: { path: '^src/adapters/', pathNot: TEST_FILE },
      to: { path: ['^src/entry-points/', '^src/app/'] },
    },
    {
      name: 'entry-points-pick-no-adapter',
      severity: 'error',
      comment: 'Entry points translate; the composition root chooses adapters and hands them over as ports.',
      from: { path: '^src/entry-points/', pathNot: TEST_FILE },
      to: { path: '^src/adapters/' },
    },
    {
      name: 'entry-points-see-no-composition-root',
      severity: 'error',
      from: { path: '^src/entry-points/', pathNot: TEST_FILE },
      to: { path: '^src/app/' },
    },
    {
      name: 'product-imports-no-tests-bench-chaos',
      severity: 'error',
      from: { path: PRODUCT, pathNot: TEST_FILE },
      to: { path: ['^test/', '^bench/', '^chaos/', '^support/', TEST_FILE] },
    },
    {
      name: 'tools-share-through-support',
      severity: 'error',
      comment: 'The bench and chaos share helpers with the tests through support/, not test/.',
      from: { path: '^(bench|chaos)/' },
      to: { path: '^test/' },
    },
  ],
  options: {
    doNotFollow: { path: 'node_modules' },
    exclude: { path: '^(dist|web/dist)/' },
    tsPreCompilationDeps: true,
    tsConfig: { fileName: 'tsconfig.json' },
    enhancedResolveOptions: { exportsFields: ['exports'], conditionNames: ['import', 'require', 'node', 'default'] },
  },
};
