/**
 * The query API Lambda, behind CloudFront at /api/*: a thin adapter from the
 * HTTP event (function URL or API Gateway v2 shape) to the shared QueryApi over Athena.
 */
import { AthenaClient } from '@aws-sdk/client-athena';
import { AthenaEngine } from '../query/athena-engine.ts';
import { QueryApi, type ApiResponse } from '../query/query-api.ts';

const database = process.env.CLICKSTREAM_GLUE_DATABASE;
const workGroup = process.env.CLICKSTREAM_ATHENA_WORKGROUP;
if (!database || !workGroup) throw new Error('CLICKSTREAM_GLUE_DATABASE and CLICKSTREAM_ATHENA_WORKGROUP must be set for the query API');

// Longer caching than locally: each Athena query costs money and a second or more.
const api = new QueryApi({ engine: new AthenaEngine(new AthenaClient({}), { database, workGroup }), cacheMs: 30_000 });

export interface HttpEvent {
  readonly rawPath?: string;
  readonly queryStringParameters?: Record<string, string | undefined> | null;
}

export async function handler(event: HttpEvent): Promise<ApiResponse> {
  const match = /^\/api\/query\/([^/]+)$/.exec(event.rawPath ?? '');
  if (!match) return { statusCode: 404, headers: { 'content-type': 'application/json' }, body: JSON.stringify({ error: 'use /api/query/<name>' }) };
  return api.handle(decodeURIComponent(match[1]!), event.queryStringParameters ?? {});
}
