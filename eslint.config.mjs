import tseslint from 'typescript-eslint';

export default tseslint.config(
  // lambdas/common/generated/*.js: written by the build (lambdas/generate-code.ts), not source.
  { ignores: ['node_modules/', 'cdk.out/', 'dist/', '.scratch/', '**/*.mjs', 'lambdas/common/generated/*.js'] },
  ...tseslint.configs.recommendedTypeChecked,
  {
    languageOptions: {
      parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname },
    },
    rules: {
      '@typescript-eslint/no-floating-promises': 'error',
      '@typescript-eslint/no-misused-promises': 'error',
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
    },
  },
  {
    // Data flows one way: the functions' code is bundled alone, so it never reaches into the
    // laptop runtime or the CDK app (both of which import it).
    files: ['lambdas/**/*.ts'],
    rules: {
      'no-restricted-imports': ['error', { patterns: [{ regex: '(^|/)(local|lib)/', message: 'lambdas/ imports nothing from local/ or lib/: move what both need into lambdas/common/.' }] }],
    },
  },
);
