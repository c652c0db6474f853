/**
 * The README's main job, `clickstream run`, as a user runs it: in its own state
 * directory and ports, starting and stopping every service itself, twice. Then
 * independent readers check that every acknowledged event is in the lake
 * exactly once: Kafka's own Java console consumer for what the topic holds,
 * the AWS SDK (through a fresh mirror) and DuckDB over the Parquet for the lake.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { configEnv, loadConfig } from '../../local/common/config.ts';
import { pipelineLag } from '../../local/consume/consumer-lag.ts';
import { startKafka, stopKafka } from '../../local/services/kafka.ts';
import { startMinio, stopMinio } from '../../local/services/minio.ts';
import { status } from '../../local/services/stack.ts';
import { consumeWithJavaClient, openLake } from './helpers.ts';

const CLI = fileURLToPath(new URL('../../local/cli/clickstream.mjs', import.meta.url));
const stateDir = mkdtempSync(join(tmpdir(), 'clickstream-run-'));
// Ports of their own: neither the shared test services nor a developer's pipeline are touched.
const config = loadConfig({
  ...process.env,
  CLICKSTREAM_STATE_DIR: stateDir,
  CLICKSTREAM_KAFKA_PORT: process.env.CLICKSTREAM_TEST_RUN_KAFKA_PORT ?? '39092',
  CLICKSTREAM_KAFKA_CONTROLLER_PORT: process.env.CLICKSTREAM_TEST_RUN_KAFKA_CONTROLLER_PORT ?? '39093',
  CLICKSTREAM_MINIO_PORT: process.env.CLICKSTREAM_TEST_RUN_MINIO_PORT ?? '39000',
  CLICKSTREAM_DASHBOARD_PORT: process.env.CLICKSTREAM_TEST_RUN_DASHBOARD_PORT ?? '38080',
});
const quiet = () => undefined;

/** Runs the CLI; `interruptWhen` sends one SIGINT (Ctrl-C) once stderr shows that text, after 3 s. */
function cli(args: string[], interruptWhen?: string): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const child = spawn(process.execPath, [CLI, ...args], { env: { ...process.env, ...configEnv(config) }, stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  let interrupted = false;
  child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
  child.stderr.on('data', (d: Buffer) => {
    stderr += d.toString();
    if (interruptWhen && !interrupted && stderr.includes(interruptWhen)) {
      interrupted = true;
      setTimeout(() => child.kill('SIGINT'), 3_000);
    }
  });
  return new Promise((resolve) => child.once('close', (code) => resolve({ code, stdout, stderr })));
}

const sentIn = (stdout: string) => Number(/sent ([\d,]+) events/.exec(stdout)?.[1]?.replaceAll(',', ''));

async function nothingRunning(): Promise<void> {
  const services = await status(config);
  expect(services.filter((s) => s.running).map((s) => s.name)).toEqual([]);
}

afterAll(async () => {
  await cli(['down']);
  rmSync(stateDir, { recursive: true, force: true });
});

describe('clickstream run', () => {
  const sent: number[] = [];

  it('starts everything, shows the dashboard URL, and stops what it started after --duration', async () => {
    const run = await cli(['run', '--duration', '6', '--rate', '1500', '--flat', '--seed', '101']);
    expect(run.code, run.stderr).toBe(0);
    expect(run.stderr).toContain(`dashboard  http://127.0.0.1:${config.dashboardPort}/`);
    expect(run.stderr).toContain(`collector  http://127.0.0.1:${config.dashboardPort}/collect`);
    expect(run.stdout).toMatch(/, 0 not acknowledged/);
    expect(run.stderr).toMatch(/stopped supervisor, dashboard, consumer, kafka, and minio/);
    sent.push(sentIn(run.stdout));
    expect(sent[0]).toBeGreaterThan(3_000);
    await nothingRunning();
  });

  it('resumes on a second run stopped with Ctrl-C: the lake ends with every acknowledged event of both runs exactly once', async () => {
    const run = await cli(['run', '--rate', '1500', '--flat', '--seed', '202'], 'producing to');
    expect(run.code, run.stderr).toBe(0);
    expect(run.stderr).toContain('stopping: sending what is in flight');
    expect(run.stderr).toMatch(/stopped supervisor, dashboard, consumer, kafka, and minio/);
    sent.push(sentIn(run.stdout));
    await nothingRunning();

    // Bring back only the broker and the store to read them; the consumer stays stopped.
    await startMinio(config, quiet);
    await startKafka(config, quiet);
    try {
      const total = sent[0]! + sent[1]!;
      const onTopic = await consumeWithJavaClient(config, config.topic, total + 1);
      expect(onTopic).toHaveLength(total);
      const topicIds = new Set(onTopic.map((r) => (JSON.parse(r.value) as { event_id: string }).event_id));
      expect(topicIds.size).toBe(total);

      const lag = await pipelineLag(config);
      expect(lag.reduce((n, p) => n + p.lag, 0)).toBe(0);

      const lake = await openLake(config);
      try {
        const [counts] = await lake.query('SELECT count(*) AS rows, count(DISTINCT event_id) AS ids FROM events');
        expect(Number(counts!.rows)).toBe(total);
        expect(Number(counts!.ids)).toBe(total);
        const lakeIds = (await lake.query('SELECT event_id FROM events')).map((r) => String(r.event_id));
        expect(lakeIds.filter((id) => !topicIds.has(id))).toEqual([]);
      } finally {
        lake.close();
      }
    } finally {
      await stopKafka(config);
      await stopMinio(config);
    }
  });

  it('refuses to start when a port is taken, says which and how to fix it, and leaves no process behind', async () => {
    const blocker: Server = createServer();
    await new Promise<void>((resolve) => blocker.listen(config.dashboardPort, '127.0.0.1', resolve));
    try {
      const run = await cli(['run', '--duration', '2']);
      expect(run.code).toBe(1);
      expect(run.stderr).toContain(`port ${config.dashboardPort} for the dashboard is already in use by another program: stop it, or set CLICKSTREAM_DASHBOARD_PORT to a free port`);
      expect(run.stderr).not.toMatch(/\n\s+at /); // no stack trace
      await nothingRunning();
    } finally {
      await new Promise<void>((resolve) => blocker.close(() => resolve()));
    }
  });

  it('says so when asked to stop what is not running', async () => {
    const down = await cli(['down']);
    expect(down.code).toBe(0);
    expect(down.stderr).toContain('nothing was running');
  });
});
