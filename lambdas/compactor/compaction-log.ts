/**
 * The compactor's line for an hour it left raw (too big for what one run compacts in its time, or
 * one session over a slice): answered exactly, at the raw files' cost. The CDK alarm
 * (lib/operations.ts) counts these lines by their message.
 */
export const HOUR_NOT_COMPACTED_MESSAGE = 'hour not compacted';

export function hourNotCompactedLine(skipped: { readonly hour: string; readonly reason: string }) {
  return { level: 'WARN', message: HOUR_NOT_COMPACTED_MESSAGE, ...skipped } as const;
}
