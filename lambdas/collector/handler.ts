/**
 * The collector Lambda, behind CloudFront at /collect/*: a thin adapter from the
 * function URL event to the shared Collector, writing to the stack's stream (Kinesis
 * PutRecords, or Kafka/MSK with the simulator's sender).
 */
import type { LambdaFunctionURLEvent, LambdaFunctionURLResult } from 'aws-lambda';
import { loadStreamIngest } from '../ingest/ingest-config.ts';
import { createStreamSender, type StreamSender } from '../ingest/stream-sender.ts';
import { Collector } from './collect-request.ts';
import { loadClientEnricher } from './enrich-client.ts';

const ingest = loadStreamIngest(process.env, 'the collector');
/** The path CloudFront routes here; the function also answers its bare paths when called directly. */
const PREFIX = '/collect';

// Created once per container and reused by later invocations.
let sender: Promise<StreamSender> | undefined;
let collector: Promise<Collector> | undefined;

async function createCollector(): Promise<Collector> {
  const enricher = await loadClientEnricher();
  return new Collector({
    enricher,
    send: async (records) => {
      sender ??= createStreamSender(ingest, 'clickstream-collector');
      try {
        await (await sender).send(records);
      } catch (error) {
        sender = undefined; // a broken connection is rebuilt on the next request
        throw error;
      }
    },
    log: (entry) => console.log(JSON.stringify(entry)),
  });
}

export type CollectorEvent = Pick<LambdaFunctionURLEvent, 'rawPath' | 'rawQueryString' | 'headers' | 'body' | 'isBase64Encoded'> & {
  readonly requestContext: { readonly http: { readonly method: string; readonly sourceIp: string }; readonly timeEpoch: number };
};

export async function handler(event: CollectorEvent): Promise<LambdaFunctionURLResult> {
  collector ??= createCollector();
  const path = event.rawPath.startsWith(`${PREFIX}/`) ? event.rawPath.slice(PREFIX.length) : event.rawPath;
  const response = await (await collector).handle({
    method: event.requestContext.http.method,
    path,
    query: new URLSearchParams(event.rawQueryString),
    headers: event.headers,
    body: event.body === undefined ? Buffer.alloc(0) : Buffer.from(event.body, event.isBase64Encoded ? 'base64' : 'utf8'),
    clientIp: clientIp(event),
    receivedAtMs: event.requestContext.timeEpoch,
  });
  const binary = Buffer.isBuffer(response.body);
  return { statusCode: response.statusCode, headers: response.headers, body: binary ? response.body.toString('base64') : String(response.body), isBase64Encoded: binary };
}

/**
 * The shopper's address: CloudFront's viewer address header (the origin request policy
 * forwards it), else the first X-Forwarded-For hop, else the caller of the URL. A caller
 * can claim any of these, as they can claim anything in the events they send: the
 * country is a figure, not a control.
 */
function clientIp(event: CollectorEvent): string {
  const viewer = event.headers['cloudfront-viewer-address'];
  if (viewer) return viewer.includes('.') ? viewer.replace(/:\d+$/, '') : viewer.replace(/:\d+$/, '').replace(/^\[|\]$/g, '');
  const forwarded = event.headers['x-forwarded-for']?.split(',')[0]?.trim();
  return forwarded || event.requestContext.http.sourceIp;
}
