/**
 * When an hour of the lake stops changing, the one rule the consumer and the
 * compactor must agree on (docs/architecture.md, "Compaction").
 *
 * An event is on time if its hour ended less than `lateAfterMs` before the
 * consumer wrote it: it goes to the hour's raw partition (events/). Later ones
 * go to late/. A consumer attempt writes within `writeDeadlineMs` of its ingest
 * time (the Lambda timeout, plus a margin), so once `lateAfterMs +
 * writeDeadlineMs` have passed since an hour ended, no raw file can appear in it
 * any more, and the compactor may replace it.
 */
/** An hour, the lake's partition. */
export const HOUR_MS = 3_600_000;

export interface LakeTiming {
  /** How long after its hour ends an event still goes to the hour's raw partition. */
  readonly lateAfterMs: number;
  /** The longest a consumer attempt writes after its ingest time. */
  readonly writeDeadlineMs: number;
}

/** 10 minutes for stragglers; the consumer Lambda's 5-minute timeout plus a minute. */
export const DEFAULT_LAKE_TIMING: LakeTiming = { lateAfterMs: 10 * 60_000, writeDeadlineMs: 6 * 60_000 };

/** Whether an event of the hour starting at hourStartMs, ingested now, is late (goes to late/). */
export function isLate(hourStartMs: number, ingestTimeMs: number, timing: LakeTiming): boolean {
  return ingestTimeMs >= hourStartMs + HOUR_MS + timing.lateAfterMs;
}

/** Whether the hour's raw partition can no longer change, so the compactor may replace it. */
export function isSettled(hourStartMs: number, nowMs: number, timing: LakeTiming): boolean {
  return nowMs >= hourStartMs + HOUR_MS + timing.lateAfterMs + timing.writeDeadlineMs;
}

/** Whether a late file written at ingestTimeMs is complete for good (a retry writes another key). */
export function isLateFileSettled(ingestTimeMs: number, nowMs: number, timing: LakeTiming): boolean {
  return nowMs >= ingestTimeMs + timing.writeDeadlineMs;
}

/**
 * The lateness setting from the environment (CLICKSTREAM_LATE_AFTER_SECONDS), shared by the
 * consumer and the compactor so they cannot disagree; a bad value is an error, not a default.
 */
export function lakeTimingFromEnv(env: Readonly<Record<string, string | undefined>>): LakeTiming {
  const seconds = (name: string, fallbackMs: number): number => {
    const raw = env[name];
    if (raw === undefined || raw === '') return fallbackMs;
    if (!/^\d+$/.test(raw) || Number(raw) < 1 || Number(raw) > 86_400) {
      throw new Error(`${name} must be a whole number of seconds from 1 to 86400, got "${raw}"`);
    }
    return Number(raw) * 1000;
  };
  return {
    lateAfterMs: seconds('CLICKSTREAM_LATE_AFTER_SECONDS', DEFAULT_LAKE_TIMING.lateAfterMs),
    writeDeadlineMs: seconds('CLICKSTREAM_WRITE_DEADLINE_SECONDS', DEFAULT_LAKE_TIMING.writeDeadlineMs),
  };
}
