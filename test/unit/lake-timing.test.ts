import { describe, expect, it } from 'vitest';
import { DEFAULT_LAKE_TIMING, isLate, isLateFileSettled, isSettled, lakeTimingFromEnv } from '../../lambdas/common/lake-timing.ts';

const HOUR = 3_600_000;
const H = Date.UTC(2026, 11, 3, 10);
const timing = { lateAfterMs: 10 * 60_000, writeDeadlineMs: 6 * 60_000 };

describe('lake timing', () => {
  it('calls an event late once its hour ended lateAfter ago, and the hour settled a write deadline after that', () => {
    expect(isLate(H, H + HOUR + 10 * 60_000 - 1, timing)).toBe(false);
    expect(isLate(H, H + HOUR + 10 * 60_000, timing)).toBe(true);
    expect(isSettled(H, H + HOUR + 16 * 60_000 - 1, timing)).toBe(false);
    expect(isSettled(H, H + HOUR + 16 * 60_000, timing)).toBe(true);
    // A late file's rows are all of hours that are settled by the time the file is.
    const ingest = H + HOUR + 10 * 60_000;
    expect(isLateFileSettled(ingest, ingest + 6 * 60_000, timing) && isSettled(H, ingest + 6 * 60_000, timing)).toBe(true);
  });

  it('reads both settings from the environment, with defaults', () => {
    expect(lakeTimingFromEnv({})).toEqual(DEFAULT_LAKE_TIMING);
    expect(lakeTimingFromEnv({ CLICKSTREAM_LATE_AFTER_SECONDS: '60', CLICKSTREAM_WRITE_DEADLINE_SECONDS: '900' })).toEqual({ lateAfterMs: 60_000, writeDeadlineMs: 900_000 });
  });

  it.each(['0', '-5', '1.5', 'ten', '86401', ' 60'])('refuses CLICKSTREAM_LATE_AFTER_SECONDS=%j with one sentence naming the setting', (value) => {
    expect(() => lakeTimingFromEnv({ CLICKSTREAM_LATE_AFTER_SECONDS: value })).toThrow(/^CLICKSTREAM_LATE_AFTER_SECONDS must be a whole number of seconds from 1 to 86400, got ".*"$/);
  });

  it('refuses a bad CLICKSTREAM_WRITE_DEADLINE_SECONDS too', () => {
    expect(() => lakeTimingFromEnv({ CLICKSTREAM_WRITE_DEADLINE_SECONDS: '5m' })).toThrow(/CLICKSTREAM_WRITE_DEADLINE_SECONDS must be a whole number/);
  });
});
