/**
 * The import graph's rules (`npm run lint` runs them after eslint): no import circle anywhere, and the
 * layers of docs/design.md — core imports only core, and its ports (core/ports/, one file per port) speak
 * only of the model and of each other; adapters import core and src/shared, never an entry point or the
 * composition root (src/app); entry points never pick an adapter nor see src/app; src/shared imports
 * nothing of the product; src/app, the composition root, may import anything in src. The product never
 * imports tests, the bench or chaos. Type-only imports count: a circle of types is still a circle to read.
 */
const PRODUCT = '^src/';
const TEST_FILE = '[.](test|contract|fixture)[.]ts$';

module.exports = {
  forbidden: [
    { name: 'no-circular', severity: 'error', comment: 'An import circle: split the shared part into a module both import.', from: {}, to: { circular: true } },
    {
      name: 'core-imports-only-core',
      severity: 'error',
      comment: 'core holds the rules: it reaches the outside world through its ports (core/ports/), and needs no shared helper.',
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
      name: 'ports-speak-of-the-model',
      severity: 'error',
      comment: 'A port names what the sale needs in sale terms: the model and other ports, nothing that does it.',
      from: { path: '^src/core/ports/' },
      to: { pathNot: ['^src/core/ports/', '^src/core/model[.]ts$'] },
    },
    {
      name: 'shared-imports-only-shared',
      severity: 'error',
      comment: 'src/shared holds small helpers every layer may use: it depends on no layer of the product.',
      from: { path: '^src/shared/', pathNot: TEST_FILE },
      to: { path: '^src/', pathNot: '^src/shared/' },
    },
    {
      name: 'adapters-import-no-entry-point-or-root',
      severity: 'error',
      comment: 'Adapters implement ports; which adapter runs is for the composition root (src/app) alone to say.',
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
      comment: 'Entry points get their ports and settings handed over by src/app; they never reach back into it.',
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
