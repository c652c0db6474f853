/**
 * Time and cache limits of the query API in the cloud, shared by the handler and
 * the CDK constructs (lib/query.ts, lib/dashboard-site.ts) so they stay in order:
 * Athena wait < function timeout < CloudFront's origin read timeout.
 */

/** CloudFront's origin read timeout for /api/* (its default, set explicitly). */
export const ORIGIN_READ_TIMEOUT_SECONDS = 30;
/** Below the origin read timeout, so the viewer gets the function's own answer or error, not CloudFront's 504. */
export const FUNCTION_TIMEOUT_SECONDS = 25;
/** How long the handler waits for an Athena query, leaving the rest of the function timeout to read its results. */
export const ATHENA_WAIT_MS = 20_000;
/** How long an answer is reused, by the function's memory cache and by CloudFront's (each Athena query costs money and seconds). */
export const ANSWER_CACHE_SECONDS = 30;
