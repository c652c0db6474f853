/** The collector on a Node HTTP server: the request in the collector's terms, its answer written back. */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { MAX_BODY_BYTES, type Collector } from '../../lambdas/collector/collect-request.ts';

/** Where trackers send events, below the server's address (the same path as in the cloud). */
export const COLLECT_PREFIX = '/collect';

export async function answerCollect(collector: Collector, req: IncomingMessage, res: ServerResponse, url: URL): Promise<void> {
  const response = await collector.handle({
    method: req.method ?? 'GET',
    path: url.pathname.slice(COLLECT_PREFIX.length),
    query: url.searchParams,
    headers: Object.fromEntries(Object.entries(req.headers).map(([name, value]) => [name, Array.isArray(value) ? value.join(', ') : value])),
    body: await readBody(req, MAX_BODY_BYTES + 1),
    clientIp: req.socket.remoteAddress,
    receivedAtMs: Date.now(),
  });
  res.writeHead(response.statusCode, response.headers);
  res.end(response.body);
}

/** The request body, at most `limit` bytes of it (the rest is read and dropped, so the answer can still be sent). */
async function readBody(req: IncomingMessage, limit: number): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req as AsyncIterable<Buffer>) {
    if (size < limit) chunks.push(chunk.subarray(0, limit - size));
    size += chunk.byteLength;
  }
  return Buffer.concat(chunks);
}
