/**
 * Relative traffic by hour of day (UTC): a quiet night, a lunchtime bump and an
 * evening peak. Normalised so the mean over a day is 1, which keeps a requested
 * rate the daily average.
 */
const RAW_HOURLY = [
  0.35, 0.25, 0.2, 0.18, 0.18, 0.25, 0.45, 0.7, 0.9, 1.0, 1.05, 1.15, 1.3, 1.25, 1.1, 1.05, 1.1, 1.25, 1.45, 1.65, 1.75, 1.6, 1.2, 0.7,
];
const MEAN = RAW_HOURLY.reduce((a, b) => a + b, 0) / RAW_HOURLY.length;

export const HOURLY_TRAFFIC: readonly number[] = RAW_HOURLY.map((v) => v / MEAN);
export const PEAK_TRAFFIC = Math.max(...HOURLY_TRAFFIC);

/** Traffic multiplier at a moment, interpolated between hours so the rate has no steps. */
export function trafficAt(timeMs: number): number {
  const hours = (timeMs / 3_600_000) % 24;
  const hour = Math.floor(hours);
  const from = HOURLY_TRAFFIC[hour]!;
  const to = HOURLY_TRAFFIC[(hour + 1) % 24]!;
  return from + (to - from) * (hours - hour);
}
