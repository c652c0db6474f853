/**
 * How the compactor cuts an hour into slices that fit its memory: by a hash of
 * the session id, never by time. Copies of an event are one event re-sent, so
 * they share its session (the Kafka key) even where the collector's clock
 * correction gave them event times a few milliseconds apart: each event's copies
 * meet in one slice, where one is kept. A session is never split either, so the
 * `sessions` rollup of a slice is exactly the hour's rows for those sessions.
 * A sender that re-sends an event under another session breaks that assumption: those
 * copies are found by event_id apart (slice-work.ts, copiesToDrop) and all but one dropped.
 */

/** Buckets an hour's rows are spread over at each level; a bucket too big for a slice is spread again one level down. */
export const BUCKETS = 64;

/**
 * The bucket of a session at a level: FNV-1a over the id, then mixed with the level by murmur3's
 * finaliser (FNV's low bits alone spread poorly), so each level spreads a bucket's sessions anew.
 */
export function bucketOf(sessionId: string, level: number, buckets = BUCKETS): number {
  let hash = 0x811c9dc5;
  for (let i = 0; i < sessionId.length; i++) hash = Math.imul(hash ^ sessionId.charCodeAt(i), 0x01000193);
  hash ^= Math.imul(level + 1, 0x9e3779b1);
  hash = Math.imul(hash ^ (hash >>> 16), 0x85ebca6b);
  hash = Math.imul(hash ^ (hash >>> 13), 0xc2b2ae35);
  hash ^= hash >>> 16;
  return (hash >>> 0) % buckets;
}

/**
 * Buckets (their row counts, in order) packed into slices of at most `budget` rows: consecutive
 * buckets while they fit. A bucket bigger than the budget is left out of every slice and named in
 * `over`, to be spread one level down. Empty buckets belong to no slice.
 */
export function packBuckets(counts: readonly number[], budget: number): { readonly slices: number[][]; readonly over: number[] } {
  if (!(budget >= 1)) throw new Error(`the slice budget must be at least 1 row, got ${budget}`);
  const slices: number[][] = [];
  const over: number[] = [];
  let current: number[] = [];
  let rows = 0;
  counts.forEach((count, bucket) => {
    if (count === 0) return;
    if (count > budget) return void over.push(bucket);
    if (rows + count > budget) {
      slices.push(current);
      current = [];
      rows = 0;
    }
    current.push(bucket);
    rows += count;
  });
  if (current.length > 0) slices.push(current);
  return { slices, over };
}
