/** Source records to lake objects: plan the batch, then write each source partition's part in order. */
import { DEFAULT_LAKE_TIMING, type LakeTiming } from '../common/lake-timing.ts';
import type { ObjectStore } from './object-store.ts';
import { planBatch } from './plan-batch.ts';
import type { SourceRecord } from './source-record.ts';
import { writePartitionPlan, type ParquetEncoder, type WriteResult } from './write-batch.ts';

export interface ConsumeResult extends WriteResult {
  readonly partitions: number;
}

export async function consumeRecords(
  store: ObjectStore,
  records: readonly SourceRecord[],
  ingestTimeMs: number,
  encode: ParquetEncoder,
  timing: LakeTiming = DEFAULT_LAKE_TIMING,
): Promise<ConsumeResult> {
  const total: Record<keyof ConsumeResult, number> = { partitions: 0, records: 0, valid: 0, quarantined: 0, duplicatesDropped: 0, objectsWritten: 0, objectsReplaced: 0 };
  for (const plan of planBatch(records, ingestTimeMs, timing)) {
    const result = await writePartitionPlan(store, plan, encode);
    total.partitions++;
    for (const key of Object.keys(result) as (keyof WriteResult)[]) total[key] += result[key];
  }
  return total;
}
