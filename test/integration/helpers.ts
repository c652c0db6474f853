/** Shared helpers for integration tests: unique topics, and Kafka's own Java tools as independent clients. */
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { DuckDBInstance } from '@duckdb/node-api';
import { Admin } from '@platformatic/kafka';
import type { LocalConfig } from '../../local/common/config.ts';
import { PARTITIONS_FROM_EVENT_TIME } from '../../local/lake/duckdb-lake.ts';
import { pipelineLag, waitForCaughtUp } from '../../local/consume/consumer-lag.ts';
import { LakeMirror } from '../../local/lake/lake-mirror.ts';
import { localS3Client } from '../../local/services/minio.ts';
import { bootstrapServers, runKafkaTool } from '../../local/services/kafka.ts';

/** Creates a topic only this test writes to; deleted by the returned function. */
export async function createTestTopic(config: LocalConfig, partitions = 6): Promise<{ topic: string; remove: () => Promise<void> }> {
  const topic = `test.${randomBytes(4).toString('hex')}`;
  const admin = new Admin({ clientId: 'clickstream-test', bootstrapBrokers: [bootstrapServers(config)] });
  await admin.createTopics({ topics: [topic], partitions, replicas: 1 });
  await admin.close();
  return {
    topic,
    remove: async () => {
      const cleanup = new Admin({ clientId: 'clickstream-test', bootstrapBrokers: [bootstrapServers(config)] });
      await cleanup.deleteTopics({ topics: [topic] });
      await cleanup.close();
    },
  };
}

export interface ConsumedRecord {
  readonly partition: number;
  readonly offset: number;
  readonly key: string;
  readonly value: string;
}

/**
 * Reads a topic from the beginning with Kafka's own console consumer (the Java
 * client), in a consumer group of its own: a reader that shares no code with ours.
 */
export async function consumeWithJavaClient(config: LocalConfig, topic: string, maxMessages: number): Promise<ConsumedRecord[]> {
  const result = await runKafkaTool(config, 'org.apache.kafka.tools.consumer.ConsoleConsumer', [
    '--bootstrap-server',
    bootstrapServers(config),
    '--topic',
    topic,
    '--group',
    `verify-${randomBytes(4).toString('hex')}`,
    '--from-beginning',
    '--max-messages',
    String(maxMessages),
    '--timeout-ms',
    '5000',
    '--formatter-property',
    'print.partition=true',
    '--formatter-property',
    'print.offset=true',
    '--formatter-property',
    'print.key=true',
    '--formatter-property',
    'key.separator=\t',
  ]);
  if (result.code !== 0 && !result.stderr.includes('Processed a total of')) {
    throw new Error(`console consumer failed (${result.code}): ${result.stderr.slice(-500)}`);
  }
  return result.stdout
    .split('\n')
    .filter((line) => line.length > 0)
    .map((line) => {
      const [partition, offset, key, ...value] = line.split('\t');
      return { partition: Number(partition!.replace('Partition:', '')), offset: Number(offset!.replace('Offset:', '')), key: key!, value: value.join('\t') };
    });
}

/** Waits until the consumer group has committed everything on the topic. */
export async function waitForConsumer(config: LocalConfig, timeoutMs = 120_000): Promise<void> {
  if (!(await waitForCaughtUp(config, timeoutMs))) {
    const lag = await pipelineLag(config);
    throw new Error(`consumer still behind after ${timeoutMs / 1000}s: ${JSON.stringify(lag)}`);
  }
}

/** A fresh local copy of the lake and a DuckDB connection over it, for reading back what landed. */
export async function openLake(config: LocalConfig): Promise<{ query: (sql: string) => Promise<Record<string, unknown>[]>; dir: string; close: () => void }> {
  const dir = mkdtempSync(join(tmpdir(), 'clickstream-lake-'));
  const s3 = localS3Client(config);
  await new LakeMirror(s3, config.bucket, dir).sync();
  s3.destroy();
  const db = await DuckDBInstance.create(':memory:', { autoinstall_known_extensions: 'false', autoload_known_extensions: 'false' });
  const connection = await db.connect();
  await connection.run("SET TimeZone = 'UTC'");
  await connection.run(`CREATE VIEW events AS ${rawEventRows(dir)}`);
  return {
    dir,
    query: async (sql) => (await connection.runAndReadAll(sql)).getRowObjectsJson(),
    close: () => {
      connection.closeSync();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/**
 * Every row the consumer wrote into a mirrored lake, copies included: the raw hour files and the
 * late files, with the partition columns of each row's own event hour (a late file's path names
 * its ingest hour). What Athena's window reads over the files before any compaction.
 */
export function rawEventRows(dir: string): string {
  const files = ['events', 'late'].flatMap((prefix) => {
    const root = join(dir, prefix);
    return existsSync(root) ? readdirSync(root, { recursive: true }).map(String).filter((f) => f.endsWith('.parquet')).map((f) => join(root, f)) : [];
  });
  if (files.length === 0) throw new Error(`no event files under ${dir}: nothing was written to the lake`);
  return `SELECT *, ${PARTITIONS_FROM_EVENT_TIME} FROM read_parquet([${files.map((f) => `'${f.replaceAll("'", "''")}'`).join(', ')}], hive_partitioning = false, union_by_name = true)`;
}

/** Imports the bundle and calls its handler (or another export) once; prints the result or the error as one JSON line. */
const INVOKE = `
const [file, event, exportName] = process.argv.slice(1);
try {
  const handler = (await import(file))[exportName];
  console.log(JSON.stringify({ result: await handler(JSON.parse(event)) }));
} catch (error) {
  console.log(JSON.stringify({ error: String(error?.message ?? error) }));
}
process.exit(0);
`;

export interface Invocation {
  readonly result?: unknown;
  readonly error?: string;
}

/**
 * Runs a Lambda bundle's handler once in a new Node process whose working directory is the
 * bundle's, as Lambda's /var/task is, with only the given environment: nothing of this shell leaks in.
 */
export function invokeBundle(file: string, event: unknown, env: Record<string, string>, exportName = 'handler'): Promise<Invocation> {
  return new Promise((resolve, reject) => {
    execFile(
      process.execPath,
      ['--input-type=module', '-e', INVOKE, file, JSON.stringify(event), exportName],
      // Lambda's runtime sets NODE_OPTIONS from the function's environment, as CDK does here.
      { cwd: dirname(file), env: { PATH: process.env.PATH ?? '', NODE_OPTIONS: '--enable-source-maps', ...env }, timeout: 60_000 },
      (error, stdout, stderr) => {
        const line = stdout.trim().split('\n').at(-1);
        if (!line) return reject(new Error(`the bundle printed nothing (${error?.message ?? 'no error'}): ${stderr.slice(-800)}`));
        resolve(JSON.parse(line) as Invocation);
      },
    );
  });
}

export { answerDifferences } from '../answer-differences.ts';
