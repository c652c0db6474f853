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
);
