import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { consumeWithJavaClient, createTestTopic } from './helpers.ts';

const config = inject('config');
const CLI = fileURLToPath(new URL('../../local/cli/clickstream.mjs', import.meta.url));

describe('clickstream produce, stopped with Ctrl-C', () => {
  let topic: Awaited<ReturnType<typeof createTestTopic>>;
  beforeAll(async () => {
    topic = await createTestTopic(config);
  });
  afterAll(async () => {
    await topic?.remove();
  });

  it('flushes what is in flight, reports the acknowledged count, and exits 0; the topic holds exactly that many', async () => {
    const child = spawn(process.execPath, [CLI, 'produce', '--rate', '2000', '--flat', '--seed', '9'], {
      env: {
        ...process.env,
        CLICKSTREAM_STATE_DIR: config.stateDir,
        CLICKSTREAM_KAFKA_PORT: String(config.kafkaPort),
        CLICKSTREAM_KAFKA_CONTROLLER_PORT: String(config.kafkaControllerPort),
        CLICKSTREAM_MINIO_PORT: String(config.minioPort),
        CLICKSTREAM_TOPIC: topic.topic,
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    // Interrupt once records are flowing.
    await new Promise<void>((resolve) => {
      const poll = setInterval(() => {
        if (stderr.includes('producing to')) {
          clearInterval(poll);
          setTimeout(resolve, 3_000);
        }
      }, 100);
    });
    child.kill('SIGINT');
    const code = await new Promise<number | null>((resolve) => child.once('close', resolve));

    expect(code).toBe(0);
    expect(stderr).toContain('stopping: sending what is in flight');
    const sent = Number(/sent ([\d,]+) events/.exec(stdout)?.[1]?.replaceAll(',', ''));
    expect(sent).toBeGreaterThan(1_000);
    expect(stdout).toMatch(/, 0 not acknowledged/);
    const records = await consumeWithJavaClient(config, topic.topic, sent + 1);
    expect(records).toHaveLength(sent);
  });
});
