/**
 * The query API Lambda, behind CloudFront at /api/*: a thin adapter from the
 * HTTP event (function URL or API Gateway v2 shape) to the shared QueryApi over Athena.
 */
import { AthenaClient } from '@aws-sdk/client-athena';
import { S3ObjectStore } from '../consumer/object-store.ts';
import { storeLakeView } from '../query/lake-view-source.ts';
import type { LambdaFunctionURLEvent } from 'aws-lambda';
import { AthenaEngine } from '../query/athena-engine.ts';
import { QueryApi, type ApiResponse } from '../query/query-api.ts';
import { parseParameters } from '../query/parameters.ts';
import { answerCacheMs, ATHENA_WAIT_MS, DASHBOARD_QUERY_PARALLELISM } from './limits.ts';

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
    lakeView: storeLakeView(S3ObjectStore.fromEnv(bucket)),
    timeoutMs: ATHENA_WAIT_MS,
  }),
  cacheMs: answerCacheMs,
  dashboardParallelism: DASHBOARD_QUERY_PARALLELISM,
});

/** What the handler reads of a function URL event (API Gateway's v2 HTTP event has the same shape). */
export type HttpEvent = Pick<LambdaFunctionURLEvent, 'rawPath' | 'queryStringParameters'>;

/**
 * A successful answer may be kept by CloudFront as long as the function keeps it (answerCacheMs:
 * 30 s, longer for a range over two hours): the page's ranges are aligned to a step of that length,
 * so every refresh in a step after the first is CloudFront's; browsers still ask CloudFront each
 * time (max-age=0). Errors keep the shared no-store.
 */
export function cacheableAtTheEdge(response: ApiResponse, rangeMs: number): ApiResponse {
  if (response.statusCode !== 200) return response;
  return { ...response, headers: { ...response.headers, 'cache-control': `public, max-age=0, s-maxage=${Math.round(answerCacheMs(rangeMs) / 1000)}` } };
}

export async function handler(event: HttpEvent): Promise<ApiResponse> {
  // Lambda always sends rawPath; a hand-made test event from the console may not.
  const query = event.queryStringParameters ?? {};
  const response = await api.handlePath(event.rawPath ?? '', query);
  // A 200 had parameters that parse; the range's length does not depend on the clock.
  return response.statusCode === 200 ? cacheableAtTheEdge(response, rangeOf(query)) : response;
}

function rangeOf(query: Readonly<Record<string, string | undefined>>): number {
  const { fromMs, toMs } = parseParameters(query, Date.now());
  return toMs - fromMs;
}
