// Flat ESLint config. Two boundary rules the architecture depends on:
//  1. @nx/enforce-module-boundaries: libs never import services, services never import
//     each other, generated contracts import nothing of ours.
//  2. domain/ folders stay free of frameworks (Nest, TypeORM, kafkajs, gRPC, pg).
import nx from '@nx/eslint-plugin';
import tseslint from 'typescript-eslint';

const frameworkImports = [
  '@nestjs/*', 'typeorm', 'kafkajs', '@grpc/*', 'pg', 'pino', 'prom-client', 'node-vault', 'pkcs11js',
];

export default tseslint.config(
  {
    ignores: ['**/node_modules/**', '**/dist/**', '.local/**', 'coverage/**', 'libs/contracts/src/gen/**', '.nx/**'],
  },
  ...tseslint.configs.recommended,
  {
    files: ['**/*.ts'],
    plugins: { '@nx': nx },
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      '@typescript-eslint/consistent-type-imports': 'off',
      '@nx/enforce-module-boundaries': [
        'error',
        {
          allow: [],
          enforceBuildableLibDependency: false,
          depConstraints: [
            { sourceTag: 'type:generated', onlyDependOnLibsWithTags: [] },
            { sourceTag: 'type:lib', onlyDependOnLibsWithTags: ['type:lib', 'type:generated'] },
            { sourceTag: 'type:service', onlyDependOnLibsWithTags: ['type:lib', 'type:generated'] },
            { sourceTag: 'type:composition', onlyDependOnLibsWithTags: ['type:service', 'type:lib', 'type:generated'] },
          ],
        },
      ],
    },
  },
  {
    // The composition root imports services, which the Nx rule forbids by project type
    // ("imports of apps"). Its real rule (it may depend on services and libs; nothing depends
    // on it) is checked on the whole graph by scripts/workspace/boundaries.spec.ts.
    files: ['deploy/embedded/**/*.ts'],
    rules: { '@nx/enforce-module-boundaries': 'off' },
  },
  {
    // CommonJS helper scripts (e.g. scripts/infra/kafka/*.cjs) load packages with require().
    files: ['**/*.cjs'],
    languageOptions: { sourceType: 'commonjs' },
    rules: { '@typescript-eslint/no-require-imports': 'off' },
  },
  {
    files: ['services/*/src/domain/**/*.ts', 'libs/*/src/domain/**/*.ts'],
    rules: {
      'no-restricted-imports': ['error', { patterns: frameworkImports.map((group) => ({ group: [group], message: 'domain/ is plain TypeScript: put framework code in adapters/.' })) }],
    },
  },
);
