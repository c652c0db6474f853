/**
 * The query API Lambda, behind CloudFront at /api/*: a thin adapter from the
 * HTTP event (function URL or API Gateway v2 shape) to the shared QueryApi over Athena.
 */
import { AthenaClient } from '@aws-sdk/client-athena';
import { S3ObjectStore } from '../consumer/object-store.ts';
import { openHoursReadFromEnv, storeLakeView } from '../query/lake-view-source.ts';
import type { LambdaFunctionURLEvent } from 'aws-lambda';
import { AthenaEngine } from '../query/athena-engine.ts';
import { QueryApi, type ApiResponse } from '../query/query-api.ts';
import { parseParameters } from '../query/parameters.ts';
import { ANSWER_CACHE_SECONDS, answerCacheMs, ATHENA_WAIT_MS, DASHBOARD_QUERY_PARALLELISM } from './limits.ts';

const database = process.env.CLICKSTREAM_GLUE_DATABASE;
const workGroup = process.env.CLICKSTREAM_ATHENA_WORKGROUP;
const bucket = process.env.CLICKSTREAM_LAKE_BUCKET;
if (!database || !workGroup || !bucket) throw new Error('CLICKSTREAM_GLUE_DATABASE, CLICKSTREAM_ATHENA_WORKGROUP and CLICKSTREAM_LAKE_BUCKET must be set for the query API');

// Longer caching than locally: each Athena query costs money and a second or more.
const api = new QueryApi({
  engine: new AthenaEngine(new AthenaClient({}), {
    database,
    workGroup,
    bucket,
    lakeView: storeLakeView(S3ObjectStore.fromEnv(bucket), openHoursReadFromEnv(process.env)),
    timeoutMs: ATHENA_WAIT_MS,
  }),
  cacheMs: answerCacheMs,
  dashboardParallelism: DASHBOARD_QUERY_PARALLELISM,
});

/** What the handler reads of a function URL event (API Gateway's v2 HTTP event has the same shape). */
export type HttpEvent = Pick<LambdaFunctionURLEvent, 'rawPath' | 'queryStringParameters'>;

/**
 * A successful answer may be kept by CloudFront as long as the function keeps it (answerCacheMs: the
 * page's ranges until their end, 30 s into the next URL at the latest; longer ranges longer), so every
 * refresh in a step after the first is CloudFront's; browsers still ask CloudFront each time
 * (max-age=0). Errors keep the shared no-store.
 */
export function cacheableAtTheEdge(response: ApiResponse, cacheMs: number): ApiResponse {
  if (response.statusCode !== 200) return response;
  return { ...response, headers: { ...response.headers, 'cache-control': `public, max-age=0, s-maxage=${Math.floor(cacheMs / 1000)}` } };
}

/**
 * How long CloudFront may keep a 200 answer to this query string. Without `to` the range ends at the
 * clock, so its URL means another range at every request: the short time. With it, the parameters
 * parsed already (a 200), and parse again the same at a later clock (the only check on the clock is
 * `to` at most a day ahead).
 */
export function edgeCacheMs(query: Readonly<Record<string, string | undefined>>, nowMs: number): number {
  if (query.to === undefined) return ANSWER_CACHE_SECONDS * 1000;
  return answerCacheMs(parseParameters(query, nowMs), nowMs);
}

export async function handler(event: HttpEvent): Promise<ApiResponse> {
  // Lambda always sends rawPath; a hand-made test event from the console may not.
  const query = event.queryStringParameters ?? {};
  const response = await api.handlePath(event.rawPath ?? '', query);
  return response.statusCode === 200 ? cacheableAtTheEdge(response, edgeCacheMs(query, Date.now())) : response;
}
