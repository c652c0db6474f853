/**
 * Starts one real Kafka broker and one real MinIO for the whole integration run,
 * in a throw-away state directory and on their own ports, so a developer's
 * running pipeline is never touched. Tests get the config through `inject`.
 * Everything started here is stopped and deleted at the end.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { TestProject } from 'vitest/node';
import { loadConfig, type LocalConfig } from '../../local/common/config.ts';
import { down, up } from '../../local/services/stack.ts';

declare module 'vitest' {
  export interface ProvidedContext {
    config: LocalConfig;
  }
}

process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED = 'true';

export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  const stateDir = mkdtempSync(join(tmpdir(), 'clickstream-it-'));
  const config = loadConfig({
    ...process.env,
    CLICKSTREAM_STATE_DIR: stateDir,
    CLICKSTREAM_KAFKA_PORT: process.env.CLICKSTREAM_TEST_KAFKA_PORT ?? '29092',
    CLICKSTREAM_KAFKA_CONTROLLER_PORT: process.env.CLICKSTREAM_TEST_KAFKA_CONTROLLER_PORT ?? '29093',
    CLICKSTREAM_MINIO_PORT: process.env.CLICKSTREAM_TEST_MINIO_PORT ?? '29000',
    CLICKSTREAM_DASHBOARD_PORT: process.env.CLICKSTREAM_TEST_DASHBOARD_PORT ?? '28080',
  });
  await up(config, (line) => console.log(`[integration setup] ${line}`));
  project.provide('config', config);
  return async () => {
    await down(config);
    rmSync(stateDir, { recursive: true, force: true });
  };
}
