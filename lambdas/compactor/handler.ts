/**
 * The compactor Lambda, run on a schedule (EventBridge) in the cloud and by the
 * local runtime on a timer: one compaction run over the lake bucket; and `fold`, the
 * same bundle's entry point for folding the open hours. It is
 * idempotent and safe beside another run (the manifest's conditional PUT picks
 * one), so a missed or doubled schedule changes nothing but timing.
 */
import { getHeapStatistics } from 'node:v8';
import { lakeTimingFromEnv } from '../common/lake-timing.ts';
import { S3ObjectStore } from '../consumer/object-store.ts';
import { logLine } from '../common/lambda-log.ts';
import { compactionRunLine, foldRunLine, hourNotCompactedLine } from './compaction-log.ts';
import { compactLake, type CompactionResult } from './compact-lake.ts';
import { foldOpenHours, type FoldResult } from './fold-open-hours.ts';
import { compactorSettingsFromEnv } from './settings.ts';

const bucket = process.env.CLICKSTREAM_LAKE_BUCKET;
if (!bucket) throw new Error('CLICKSTREAM_LAKE_BUCKET is not set: the compactor needs the lake bucket name');
const timing = lakeTimingFromEnv(process.env);
const settings = compactorSettingsFromEnv(process.env);
const store = S3ObjectStore.fromEnv(bucket);
/**
 * The worker threads run this same script (the bundle's index.mjs), where slice-workers.ts, which it
 * imports, serves them. Each gets a share of the heap, as of the slice budget, with one share left to
 * this thread, whose heap is not freed while they work (measured: docs/benchmarks.md, "Compaction").
 */
const workers = { count: settings.workers, script: new URL(import.meta.url), heapMiB: Math.floor(getHeapStatistics().heap_size_limit / 2 ** 20 / (settings.workers + 1)) };

export async function handler(): Promise<CompactionResult> {
  const result = await compactLake({ store, timing, ...settings, workers, log: logLine });
  for (const skipped of result.hoursSkipped) logLine(hourNotCompactedLine(skipped));
  logLine(compactionRunLine(result));
  return result;
}

/**
 * The fold (fold-open-hours.ts), on a schedule of its own (every minute in the cloud): the same bundle's
 * second entry point, so the two share their code and the lateness rule.
 */
export async function fold(): Promise<FoldResult> {
  const result = await foldOpenHours({ store, timing, retentionMs: settings.retentionMs });
  logLine(foldRunLine(result));
  return result;
}
