/**
 * Writes a planned batch so that retries never leave a row twice.
 *
 * Keys are fixed by the source offsets, so the same delivery overwrites itself.
 * A re-delivery with different batch boundaries would name its files
 * differently, so each source partition keeps a small write log: the offset
 * range and keys of its recent batches. Offsets are committed only after a batch
 * succeeds, so a delivery that starts at offset S means every logged batch
 * starting at S or later was never committed: its objects are deleted before
 * the new ones are written. The order (delete, log, write) keeps that true
 * whenever the function dies. The log is replaced only if nobody else changed it
 * since it was read, so two invocations on one partition (a rebalance, a slow
 * zombie) cannot both think they own it: the loser fails and is retried.
 */
import { consumerStateKey } from './lake-keys.ts';
import type { ObjectStore } from './object-store.ts';
import type { BatchStats, PartitionPlan } from './plan-batch.ts';
import { compareOffsets } from './source-record.ts';

/** Batches kept in a partition's log: far more than can be in flight uncommitted. */
const LOG_LENGTH = 100;

interface LoggedBatch {
  readonly first: string;
  readonly last: string;
  readonly keys: readonly string[];
}

interface WriteLog {
  readonly version: 1;
  readonly batches: readonly LoggedBatch[];
}

export type ParquetEncoder = (rows: PartitionPlan['events'][number]['rows']) => Buffer | Promise<Buffer>;

export interface WriteResult extends BatchStats {
  readonly objectsWritten: number;
  /** Objects of earlier, uncommitted deliveries that this one replaced. */
  readonly objectsReplaced: number;
}

export async function writePartitionPlan(store: ObjectStore, plan: PartitionPlan, encode: ParquetEncoder): Promise<WriteResult> {
  const logKey = consumerStateKey(plan.topic, plan.partition);
  const stored = await store.get(logKey);
  const log = parseLog(stored?.body, logKey);
  const superseded = log.batches.filter((b) => compareOffsets(b.first, plan.firstOffset) >= 0);
  const kept = log.batches.filter((b) => compareOffsets(b.first, plan.firstOffset) < 0);

  const keys = [...plan.events.map((o) => o.key), ...(plan.quarantine ? [plan.quarantine.key] : [])];
  const stale = superseded.flatMap((b) => b.keys).filter((k) => !keys.includes(k));
  if (stale.length > 0) await store.delete(stale);

  const next: WriteLog = { version: 1, batches: [...kept, { first: plan.firstOffset, last: plan.lastOffset, keys }].slice(-LOG_LENGTH) };
  await store.put(logKey, Buffer.from(JSON.stringify(next)), 'application/json', stored ? { ifMatch: stored.etag } : { ifNoneMatch: '*' });

  await Promise.all([
    ...plan.events.map(async (o) => store.put(o.key, await encode(o.rows), 'application/vnd.apache.parquet')),
    ...(plan.quarantine
      ? [store.put(plan.quarantine.key, Buffer.from(plan.quarantine.rows.map((r) => JSON.stringify(r)).join('\n') + '\n'), 'application/x-ndjson')]
      : []),
  ]);
  return { ...plan.stats, objectsWritten: keys.length, objectsReplaced: stale.length };
}

function parseLog(body: Buffer | undefined, key: string): WriteLog {
  if (!body) return { version: 1, batches: [] };
  let parsed: WriteLog;
  try {
    parsed = JSON.parse(body.toString('utf8')) as WriteLog;
  } catch {
    throw new Error(`consumer write log ${key} is not JSON: inspect it, then delete it to start a fresh log`);
  }
  if (parsed.version !== 1 || !Array.isArray(parsed.batches)) throw new Error(`consumer write log ${key} has an unknown format`);
  return parsed;
}
