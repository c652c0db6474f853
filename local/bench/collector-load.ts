/**
 * The collector benchmark's load, run in a child process (so the server under test keeps
 * the parent's core): autocannon with `connections` keep-alive connections posting
 * Segment batches of `events` tracks, each message with an id of its own. It writes the
 * ids of every acknowledged (2xx) request to `out`, one per line, so the parent can check
 * each one reached the broker, and prints autocannon's summary as JSON.
 *
 * With a rate, the connections together send that many requests a second (an open load, as
 * many independent browsers send; autocannon corrects the latencies for coordinated
 * omission), instead of each sending its next request as soon as the last was answered.
 *
 * Usage: node --import tsx collector-load.ts <url> <connections> <requests> <events> <out> [requests per second]
 */
import { randomUUID } from 'node:crypto';
import { createWriteStream } from 'node:fs';
// autocannon ships no types; the two calls used here are typed where they are made.
import autocannonModule from 'autocannon';
import type { AutocannonJson } from './load.ts';

const autocannon = autocannonModule as (options: Record<string, unknown>) => { on(event: 'done', listener: (result: AutocannonJson) => void): void };

const [url, connections, requests, events, out, rate] = process.argv.slice(2);
if (!url?.startsWith('http://127.0.0.1:') || !out) throw new Error('usage: collector-load.ts <http://127.0.0.1:port/collect/v1/b> <connections> <requests> <events> <out> [requests per second]');
const perRequest = Number(events);
const acknowledged = createWriteStream(out);

/** A tracker's batch: product views and cart additions of one session, as analytics-next sends them. */
function batch(ids: string[]): string {
  const now = new Date().toISOString();
  const session = randomUUID();
  const messages = ids.map((id, i) => ({
    type: 'track',
    event: i % 3 === 0 ? 'Product Added' : 'Product Viewed',
    properties: { product_id: `p-${i % 50}`, category: 'Games', brand: 'Acme', price: 19.9, quantity: 1 },
    messageId: `ajs-next-0-${id}`,
    anonymousId: session,
    timestamp: now,
    context: { page: { url: 'https://shop.example.com/p/1', referrer: 'https://www.google.com/' }, sessionId: session },
  }));
  return JSON.stringify({ writeKey: 'bench', sentAt: now, batch: messages });
}

interface Context {
  ids?: string[];
}

const instance = autocannon({
  url,
  connections: Number(connections),
  amount: Number(requests),
  ...(rate !== undefined && { overallRate: Number(rate) }),
  timeout: 30,
  requests: [
    {
      method: 'POST',
      headers: { 'content-type': 'text/plain', 'user-agent': 'Mozilla/5.0 (X11; Linux x86_64) Chrome/131.0.0.0 Safari/537.36' },
      setupRequest: (request: Record<string, unknown>, context: Context) => {
        // Requests on a connection go one at a time, so the context holds the ids of the one in flight.
        context.ids = Array.from({ length: perRequest }, () => randomUUID());
        return { ...request, body: batch(context.ids) };
      },
      onResponse: (status: number, _body: string, context: Context) => {
        if (status >= 200 && status < 300) acknowledged.write(`${context.ids!.join('\n')}\n`);
      },
    },
  ],
});
instance.on('done', (r) => {
  acknowledged.end(() => {
    console.log(JSON.stringify({ requests: r.requests.total, seconds: r.duration, p50Ms: r.latency.p50, p99Ms: r.latency.p99, non2xx: r.non2xx, errors: r.errors + r.timeouts }));
  });
});
