import { defineConfig } from 'vitest/config';

// Two projects: unit tests run anywhere; integration tests start (or reuse) the
// real local Kafka broker and MinIO once per run through a global setup.
export default defineConfig({
  test: {
    passWithNoTests: false,
    reporters: ['default', './test/summary-reporter.ts'],
    projects: [
      {
        test: {
          name: 'unit',
          include: ['test/unit/**/*.test.ts', 'test/infra/**/*.test.ts'],
        },
      },
      {
        test: {
          name: 'integration',
          include: ['test/integration/**/*.test.ts'],
          globalSetup: ['test/integration/global-setup.ts'],
          testTimeout: 120_000,
          hookTimeout: 600_000,
          fileParallelism: false,
        },
      },
    ],
  },
});
