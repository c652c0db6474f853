/**
 * Time, cache and concurrency limits of the query API in the cloud, shared by the
 * handler and the CDK constructs (lib/query.ts, lib/dashboard-site.ts) so they stay
 * in order: the longest chain of Athena waits in one dashboard request < function
 * timeout < CloudFront's origin read timeout.
 */
import { rangeStepMs } from '../query/dashboard-config.ts';

/** CloudFront's origin read timeout for /api/* (its default, set explicitly). */
export const ORIGIN_READ_TIMEOUT_SECONDS = 30;
/** Below the origin read timeout, so the viewer gets the function's own answer or error, not CloudFront's 504. */
export const FUNCTION_TIMEOUT_SECONDS = 25;
/**
 * Named queries one /api/dashboard request runs on Athena at once. A request runs one (the
 * dashboard's statement: lambdas/query/dashboard-statement.ts); only
 * a range whose statement is too long for Athena even naming its files short (fitStatement) runs
 * the eleven named queries instead, all at once, so every request waits once.
 */
export const DASHBOARD_QUERY_PARALLELISM = 11;
/** How long the handler waits for one Athena query: one wait per request, with 5 s left for reading the compaction manifest and answering. */
export const ATHENA_WAIT_MS = 20_000;
/** How long an answer is reused, by the function's memory cache and by CloudFront's (each Athena query costs money and seconds). */
export const ANSWER_CACHE_SECONDS = 30;
/**
 * The hosted page aligns its time range to this step (config.json rangeStepMs): the
 * same as the cache time, so each step's URL reaches Athena once and every later
 * refresh in the step is a cache hit. Answers are up to this much behind.
 */
export const DASHBOARD_RANGE_STEP_SECONDS = ANSWER_CACHE_SECONDS;
/** How often the hosted page asks (config.json refreshMs); CloudFront answers all but the first ask of each step. */
export const DASHBOARD_REFRESH_SECONDS = 10;
/**
 * A range longer than this many steps takes a step of range / DASHBOARD_STEPS_PER_RANGE (config.json
 * stepsPerRange; rangeStepMs in dashboard-config.ts): 6 minutes for a day, 42 for a week, so a long
 * range, whose every refresh reads all of it, reaches Athena about 240 times per range length rather
 * than every 30 s. Its answers are up to that step behind; an hour's step stays 30 s.
 */
export const DASHBOARD_STEPS_PER_RANGE = 240;
/** The step the hosted page aligns a range this long to (30 s up to two hours, then a 240th of it). */
export const answerStepMs = (rangeMs: number): number => rangeStepMs(rangeMs, ANSWER_CACHE_SECONDS * 1000, DASHBOARD_STEPS_PER_RANGE);

/**
 * How long the function and CloudFront keep an answer over this range, asked at `nowMs`: a range
 * ending within its step ahead (the page's: `to` rounded up to the step) until its end, when the page
 * moves on to the next URL; a range that has ended, its step (only late events can still change it);
 * any other (ending further ahead), ANSWER_CACHE_SECONDS.
 */
export function answerCacheMs(range: { readonly fromMs: number; readonly toMs: number }, nowMs: number): number {
  const step = answerStepMs(range.toMs - range.fromMs);
  if (range.toMs <= nowMs) return step;
  return range.toMs - nowMs <= step ? range.toMs - nowMs : ANSWER_CACHE_SECONDS * 1000;
}
