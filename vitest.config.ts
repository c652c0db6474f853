import { defineConfig } from 'vitest/config';

// Three projects: unit tests run anywhere; integration tests start the real local
// Kafka broker and MinIO once per run through a global setup; cloud tests deploy
// the real stack with cdklocal onto a Docker-free LocalStack that their global setup
// starts (test/cloud/global-setup.ts). No sequence.groupOrder is needed to keep the
// cloud tests off the integration tests on a 2-core machine: with fileParallelism off,
// Vitest 4 puts both projects' files in one sequential group, run one file at a time
// after the unit tests. Both global setups run first, one after the other, so the
// deployed stack idles (a simulator run a minute) while the other files run.
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
      {
        test: {
          name: 'cloud',
          include: ['test/cloud/**/*.test.ts'],
          globalSetup: ['test/cloud/global-setup.ts'],
          testTimeout: 300_000,
          hookTimeout: 900_000,
          fileParallelism: false,
        },
      },
    ],
  },
});
