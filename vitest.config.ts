import { defineConfig } from 'vitest/config';

// Three projects: unit tests run anywhere; integration tests start the real local
// Kafka broker and MinIO once per run through a global setup; cloud tests deploy
// the real stack with cdklocal onto a Docker-free LocalStack that their global setup
// starts (test/cloud/global-setup.ts). `npm test` runs the cloud project in a second
// vitest run, after the others: global setups all run first, so in one run the
// deployed stack (about 1 GB, a simulator run a minute) would sit beside every
// integration test on a 2-core machine.
export default defineConfig({
  test: {
    passWithNoTests: false,
    reporters: ['default', './test/summary-reporter.ts'],
    projects: [
      {
        test: {
          name: 'unit',
          include: ['test/unit/**/*.test.ts', 'test/infra/**/*.test.ts'],
          globalSetup: ['test/generated-sources.ts'],
        },
      },
      {
        test: {
          name: 'integration',
          include: ['test/integration/**/*.test.ts'],
          globalSetup: ['test/generated-sources.ts', 'test/integration/global-setup.ts'],
          testTimeout: 120_000,
          hookTimeout: 600_000,
          fileParallelism: false,
        },
      },
      {
        test: {
          name: 'cloud',
          include: ['test/cloud/**/*.test.ts'],
          globalSetup: ['test/generated-sources.ts', 'test/cloud/global-setup.ts'],
          testTimeout: 300_000,
          hookTimeout: 900_000,
          fileParallelism: false,
        },
      },
    ],
  },
});
