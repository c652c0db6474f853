/**
 * The lake inventory and `status --json` against the real MinIO and Kafka: the
 * figures must equal what was written, counted here independently.
 */
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import { CreateBucketCommand, DeleteBucketCommand, DeleteObjectsCommand, ListObjectsV2Command, type S3Client } from '@aws-sdk/client-s3';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { consumeRecords } from '../../lambdas/consumer/consume-records.ts';
import { encodeParquet } from '../../lambdas/consumer/parquet-encoder.ts';
import type { SourceRecord } from '../../lambdas/consumer/source-record.ts';
import { ShopperSimulator, type SimulatedRecord } from '../../lambdas/simulator/simulator.ts';
import { configEnv } from '../../local/common/config.ts';
import { produce } from '../../local/produce/produce.ts';
import { bootstrapServers } from '../../local/services/kafka.ts';
import { LakeInventoryReader } from '../../local/lake/lake-inventory.ts';
import type { PipelineStatus } from '../../local/status/pipeline-status.ts';
import { localObjectStore, localS3Client } from '../../local/services/minio.ts';
import { waitForConsumer } from './helpers.ts';

const config = inject('config');
const CLI = fileURLToPath(new URL('../../local/cli/clickstream.mjs', import.meta.url));
const START = Date.UTC(2026, 10, 21, 8, 30);
const INGEST = Date.UTC(2026, 10, 21, 9, 45);

let s3: S3Client;
// A bucket of its own, so other tests' objects do not enter the counts.
const bucket = `inventory-${randomBytes(4).toString('hex')}`;

function simulated(count: number, seed: number): SimulatedRecord[] {
  const sim = new ShopperSimulator({ seed, startTimeMs: START, eventsPerSecond: 1, dailyCurve: false, warmStart: true, inject: { malformed: 0.02 } });
  return Array.from({ length: count }, () => sim.nextRecord());
}

async function write(records: readonly SimulatedRecord[], firstOffset: number): Promise<void> {
  const batch: SourceRecord[] = records.map((r, i) => ({ topic: 'inventory.test', partition: 0, offset: String(firstOffset + i), value: r.value }));
  await consumeRecords(localObjectStore(config, bucket), batch, INGEST, encodeParquet);
}

beforeAll(async () => {
  s3 = localS3Client(config);
  await s3.send(new CreateBucketCommand({ Bucket: bucket }));
});

afterAll(async () => {
  const listed = await s3.send(new ListObjectsV2Command({ Bucket: bucket }));
  const keys = (listed.Contents ?? []).map((o) => ({ Key: o.Key! }));
  if (keys.length > 0) await s3.send(new DeleteObjectsCommand({ Bucket: bucket, Delete: { Objects: keys } }));
  await s3.send(new DeleteBucketCommand({ Bucket: bucket }));
  s3.destroy();
});

describe('LakeInventoryReader', () => {
  it('counts files, rows, the newest event and ingest times and quarantined records as written, and keeps up with new files', async () => {
    const reader = new LakeInventoryReader(s3, bucket);
    expect(await reader.read()).toEqual({
      eventObjects: 0,
      eventBytes: 0,
      eventRows: 0,
      newestEventTimeMs: null,
      newestIngestTimeMs: null,
      quarantineObjects: 0,
      quarantinedRecords: 0,
    });

    const first = simulated(3_000, 1);
    await write(first, 0);
    const second = simulated(2_000, 2);
    await write(second, 3_000);
    const all = [...first, ...second];
    const valid = all.filter((r) => r.event && !r.injected);
    const malformed = all.filter((r) => r.injected === 'malformed');
    expect(malformed.length).toBeGreaterThan(0);

    const inventory = await reader.read();
    expect(inventory.eventRows).toBe(valid.length);
    expect(inventory.quarantinedRecords).toBe(malformed.length);
    expect(inventory.newestEventTimeMs).toBe(Math.max(...valid.map((r) => r.event!.event_time)));
    expect(inventory.newestIngestTimeMs).toBe(INGEST);
    // Each batch lands in the hours its events fall in (08 and 09 here), plus one quarantine file per batch.
    expect(inventory.eventObjects).toBeGreaterThanOrEqual(2);
    expect(inventory.quarantineObjects).toBe(2);
    expect(inventory.eventBytes).toBeGreaterThan(0);
  });
});

describe('clickstream status --json', () => {
  it('prints one JSON object: healthy services, the topic with its lag, and what the lake holds', async () => {
    // Events of its own, fully consumed: the figures must include them and show no lag.
    const sentAt = Date.now();
    const summary = await produce({ bootstrapServers: [bootstrapServers(config)], topic: config.topic, rate: 'max', count: 500, seed: 31 });
    expect(summary.sent).toBe(500);
    await waitForConsumer(config);
    const child = spawn(process.execPath, [CLI, 'status', '--json'], { env: { ...process.env, ...configEnv(config) }, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    const code = await new Promise<number | null>((resolve) => child.once('close', resolve));

    expect(code).toBe(0);
    const report = JSON.parse(stdout) as PipelineStatus;
    expect(report.services.map((s) => [s.name, s.healthy])).toEqual([
      ['kafka', true],
      ['minio', true],
      ['consumer', true],
      ['dashboard', true],
      ['supervisor', true],
    ]);
    expect(report.topic?.name).toBe(config.topic);
    expect(report.topic?.partitions).toHaveLength(config.partitions);
    expect(report.topic!.endOffset).toBeGreaterThanOrEqual(500);
    expect(report.topic!.lag).toBe(0);
    expect(report.lake?.bucket).toBe(config.bucket);
    expect(report.lake!.eventRows).toBeGreaterThanOrEqual(500);
    // Max-rate events are stamped near the wall clock, so the newest one is at most a few minutes off.
    expect(Math.abs(report.lake!.newestEventTimeMs! - sentAt)).toBeLessThan(10 * 60_000);
    // The consumer process runs the compactor on its timer and reports its runs. A run may have failed
    // while another test had MinIO down (self-healing); the next one starts again from the manifest.
    const compaction = report.compaction!;
    expect([compaction.runs, compaction.failedRuns, compaction.hoursCompacted].every(Number.isInteger)).toBe(true);
    expect(report.problems).toEqual([]);
  });
});
