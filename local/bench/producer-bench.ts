/**
 * The simulator + producer from one Node process
 * against Kafka's own `kafka-producer-perf-test` (ProducerPerformance, from the
 * same jars), on the same broker, with the same record count, the same
 * payloads (the perf test sends our JSON events from a payload file), acks=all
 * and lz4. Runs alternate so machine noise hits both; the ratio is the figure.
 */
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Admin } from '@platformatic/kafka';
import { ShopperSimulator } from '../../lambdas/simulator/simulator.ts';
import type { LocalConfig } from '../common/config.ts';
import { produce } from '../produce/produce.ts';
import { bootstrapServers, runKafkaTool } from '../services/kafka.ts';
import { median } from './stats.ts';

export interface ProducerBenchResult {
  readonly records: number;
  readonly averageRecordBytes: number;
  readonly rounds: number;
  /** Median over rounds, records acknowledged per second. */
  readonly clickstreamProducer: number;
  readonly kafkaProducerPerfTest: number;
  readonly ratio: number;
  readonly runs: { readonly clickstreamProducer: number[]; readonly kafkaProducerPerfTest: number[] };
}

export async function benchProducer(config: LocalConfig, records: number, rounds: number, log: (line: string) => void): Promise<ProducerBenchResult> {
  const scratch = mkdtempSync(join(tmpdir(), 'clickstream-bench-'));
  const payloadFile = join(scratch, 'payloads.txt');
  const averageRecordBytes = writePayloadFile(payloadFile, 20_000);
  const runs = { clickstreamProducer: [] as number[], kafkaProducerPerfTest: [] as number[] };
  try {
    for (let round = 1; round <= rounds; round++) {
      // A fresh topic per run, so neither side pays for the other's segments.
      runs.clickstreamProducer.push(
        await withTopic(config, async (topic) => {
          const summary = await produce({ bootstrapServers: [bootstrapServers(config)], topic, rate: 'max', count: records, seed: round });
          if (summary.errors > 0) throw new Error(`producer benchmark had ${summary.errors} unacknowledged records: ${summary.lastError}`);
          return summary.eventsPerSecond;
        }),
      );
      runs.kafkaProducerPerfTest.push(await withTopic(config, (topic) => kafkaPerfTest(config, topic, records, payloadFile)));
      log(`round ${round}/${rounds}: clickstream ${Math.round(runs.clickstreamProducer.at(-1)!)}/s, perf test ${Math.round(runs.kafkaProducerPerfTest.at(-1)!)}/s`);
    }
  } finally {
    rmSync(scratch, { recursive: true, force: true });
  }
  const clickstreamProducer = median(runs.clickstreamProducer);
  const kafkaProducerPerfTest = median(runs.kafkaProducerPerfTest);
  return { records, averageRecordBytes, rounds, clickstreamProducer, kafkaProducerPerfTest, ratio: clickstreamProducer / kafkaProducerPerfTest, runs };
}

/** Real simulator events, one per line, for the perf test to send; returns their mean size. */
function writePayloadFile(file: string, count: number): number {
  const simulator = new ShopperSimulator({ seed: 1, startTimeMs: Date.now(), eventsPerSecond: 50_000, dailyCurve: false });
  const lines = Array.from({ length: count }, () => simulator.nextRecord().value.toString('utf8'));
  writeFileSync(file, lines.join('\n') + '\n');
  return Math.round(lines.reduce((sum, l) => sum + Buffer.byteLength(l), 0) / count);
}

async function kafkaPerfTest(config: LocalConfig, topic: string, records: number, payloadFile: string): Promise<number> {
  const result = await runKafkaTool(config, 'org.apache.kafka.tools.ProducerPerformance', [
    '--topic',
    topic,
    '--num-records',
    String(records),
    '--payload-file',
    payloadFile,
    '--throughput',
    '-1',
    '--command-property',
    `bootstrap.servers=${bootstrapServers(config)}`,
    'acks=all',
    'enable.idempotence=true',
    'compression.type=lz4',
  ]);
  // The last summary line: "200000 records sent, 57372.3 records/sec (27.36 MB/sec), ..."
  const match = /(\d+) records sent, ([\d.]+) records\/sec/.exec(result.stdout.split('\n').filter((l) => l.includes('records sent')).at(-1) ?? '');
  if (result.code !== 0 || !match || Number(match[1]) !== records) {
    throw new Error(`kafka-producer-perf-test failed (exit ${result.code}): ${(result.stderr || result.stdout).slice(-400)}`);
  }
  return Number(match[2]);
}

async function withTopic<T>(config: LocalConfig, body: (topic: string) => Promise<T>): Promise<T> {
  const topic = `bench.${randomBytes(4).toString('hex')}`;
  const admin = new Admin({ clientId: 'clickstream-bench', bootstrapBrokers: [bootstrapServers(config)] });
  try {
    await admin.createTopics({ topics: [topic], partitions: config.partitions, replicas: 1 });
    return await body(topic);
  } finally {
    await admin.deleteTopics({ topics: [topic] }).catch(() => undefined);
    await admin.close();
  }
}
