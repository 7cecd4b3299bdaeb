// One Jest run over every project. ESM throughout (NestJS 12 is ESM-only), so Jest runs
// with --experimental-vm-modules (see package.json "jest" script) and @swc/jest compiles
// TypeScript with decorator metadata. Tests import the workspace libs from source.
const swc = [
  '@swc/jest',
  {
    jsc: {
      parser: { syntax: 'typescript', decorators: true },
      transform: { legacyDecorator: true, decoratorMetadata: true },
      target: 'es2022',
      keepClassNames: true,
    },
    module: { type: 'es6' },
    sourceMaps: 'inline',
  },
];

const moduleNameMapper = {
  '^@custody/([a-z-]+)$': ['<rootDir>/libs/$1/src/index.ts', '<rootDir>/services/$1/src/index.ts'],
  '^(\\.{1,2}/.*)\\.js$': '$1',
};

const common = {
  rootDir: '.',
  extensionsToTreatAsEsm: ['.ts'],
  transform: { '^.+\\.ts$': swc },
  moduleNameMapper,
  testEnvironment: 'node',
};

export default {
  projects: [
    {
      ...common,
      displayName: 'unit',
      testMatch: ['<rootDir>/{libs,services,deploy}/*/src/**/*.spec.ts', '<rootDir>/scripts/**/*.spec.ts', '<rootDir>/bench/**/*.spec.ts'],
    },
    {
      ...common,
      displayName: 'integration',
      testMatch: ['<rootDir>/{libs,services,deploy}/*/test/{integration,e2e}/**/*.test.ts', '<rootDir>/test/**/*.test.ts', '<rootDir>/scripts/distributed/**/*.test.ts'],
      globalSetup: '<rootDir>/scripts/jest/integration-setup.mjs',
    },
  ],
  // Integration suites share one broker and one database server: run files one at a time.
  maxWorkers: 1,
  testTimeout: 120000,
  reporters: ['default', '<rootDir>/scripts/jest/summary-reporter.cjs'],
};
