/**
 * Time, cache and concurrency limits of the query API in the cloud, shared by the
 * handler and the CDK constructs (lib/query.ts, lib/dashboard-site.ts) so they stay
 * in order: the longest chain of Athena waits in one dashboard request < function
 * timeout < CloudFront's origin read timeout.
 */

/** CloudFront's origin read timeout for /api/* (its default, set explicitly). */
export const ORIGIN_READ_TIMEOUT_SECONDS = 30;
/** Below the origin read timeout, so the viewer gets the function's own answer or error, not CloudFront's 504. */
export const FUNCTION_TIMEOUT_SECONDS = 25;
/**
 * Named queries one /api/dashboard request runs on Athena at once. A request runs two (the
 * dashboard's statement and the quarantine's query: lambdas/query/dashboard-statement.ts); only
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
