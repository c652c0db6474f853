import { availableParallelism } from 'node:os';

/** The compactor's settings from its environment: each has a default, and a bad value is a one-sentence error. */
export interface CompactorSettings {
  readonly retentionMs: number;
  readonly maxHourBytes: number;
  readonly sliceRows: number;
  readonly targetFileBytes: number;
  /** Threads compacting at once: the function's vCPUs (the CDK stack sets it from the memory). */
  readonly workers: number;
}

const MiB = 2 ** 20;
const MIN_RETENTION_SECONDS = 1_200;

/**
 * Retention: an hour, well beyond Athena's 30-minute default query limit, so no query started
 * before a commit is still reading the files it replaced. The slice budget bounds memory: a row
 * held takes up to about 2 KB (measured in docs/benchmarks.md); the CDK stack sets it from the
 * function's memory, as it sets the worker threads from its vCPUs. The hour limit bounds time: what
 * one run compacts in 12 of Lambda's 15 minutes at the speed measured there (420 MiB of Parquet,
 * about 10.4 million events, on one vCPU; the stack sets more for more vCPUs).
 */
export const DEFAULT_COMPACTOR_SETTINGS: CompactorSettings = { retentionMs: 3_600_000, maxHourBytes: 420 * MiB, sliceRows: 1_000_000, targetFileBytes: 128 * MiB, workers: availableParallelism() };

export function compactorSettingsFromEnv(env: Readonly<Record<string, string | undefined>>): CompactorSettings {
  const read = (name: string, unit: string, scale: number, min: number, max: number, fallback: number): number => {
    const raw = env[name];
    if (raw === undefined || raw === '') return fallback;
    if (!/^\d+$/.test(raw) || Number(raw) < min || Number(raw) > max) throw new Error(`${name} must be a whole number of ${unit} from ${min} to ${max}, got "${raw}"`);
    return Number(raw) * scale;
  };
  return {
    // At least 20 minutes, beyond the longest run (Lambda's 15): the sweep deletes files no manifest names a
    // retention after they were written, and a run still working names its own only when it commits.
    retentionMs: read('CLICKSTREAM_COMPACTION_RETENTION_SECONDS', 'seconds', 1000, MIN_RETENTION_SECONDS, 7 * 86_400, DEFAULT_COMPACTOR_SETTINGS.retentionMs),
    maxHourBytes: read('CLICKSTREAM_COMPACTION_MAX_HOUR_MIB', 'MiB', MiB, 1, 1_000_000, DEFAULT_COMPACTOR_SETTINGS.maxHourBytes),
    sliceRows: read('CLICKSTREAM_COMPACTION_SLICE_ROWS', 'rows', 1, 1_000, 100_000_000, DEFAULT_COMPACTOR_SETTINGS.sliceRows),
    targetFileBytes: read('CLICKSTREAM_COMPACTION_FILE_MIB', 'MiB', MiB, 1, 1024, DEFAULT_COMPACTOR_SETTINGS.targetFileBytes),
    workers: read('CLICKSTREAM_COMPACTION_WORKERS', 'threads', 1, 1, 64, DEFAULT_COMPACTOR_SETTINGS.workers),
  };
}
