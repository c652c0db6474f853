/**
 * A thin HTTP proxy in front of the local dashboard server that holds the query
 * API to the concurrency the cloud function may have: an /api request that
 * arrives while `limit` are in flight gets a 429, as Lambda answers when a
 * function's concurrency is used up. API answers are held back `delayMs`, so a
 * page that sends overlapping requests meets the limit rather than slipping past it.
 */
import { createServer, request, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface ConcurrencyProxy {
  readonly url: string;
  /** /api requests forwarded, and those refused with 429. */
  readonly counts: { forwarded: number; rejected: number; inFlight: number; mostInFlight: number };
  /** Holds every API answer (those in flight and those to come) until the returned function is called. */
  hold(): () => void;
  close(): Promise<void>;
}

export async function startConcurrencyProxy(target: string, limit: number, delayMs: number): Promise<ConcurrencyProxy> {
  const upstream = new URL(target);
  const counts = { forwarded: 0, rejected: 0, inFlight: 0, mostInFlight: 0 };
  let gate = Promise.resolve();
  const server: Server = createServer((req, res) => {
    const isApi = (req.url ?? '').startsWith('/api/');
    if (isApi && counts.inFlight >= limit) {
      counts.rejected++;
      res.writeHead(429, { 'content-type': 'application/json' }).end(JSON.stringify({ message: 'Rate Exceeded.' }));
      return;
    }
    if (isApi) {
      counts.forwarded++;
      counts.mostInFlight = Math.max(counts.mostInFlight, ++counts.inFlight);
    }
    let done = false;
    // Counted out once, when the answer is sent or the viewer gives up, whichever comes first.
    const finish = () => {
      if (isApi && !done) counts.inFlight--;
      done = true;
    };
    res.on('close', finish);
    const forward = request({ host: upstream.hostname, port: upstream.port, path: req.url, method: req.method, headers: { ...req.headers, host: upstream.host } }, (answer) => {
      const send = () => {
        res.writeHead(answer.statusCode ?? 502, answer.headers);
        answer.pipe(res);
      };
      if (!isApi) return send();
      setTimeout(() => void gate.then(send), delayMs);
    });
    forward.on('error', () => res.headersSent || res.writeHead(502).end());
    req.pipe(forward);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/`,
    counts,
    hold: () => {
      let release!: () => void;
      gate = new Promise((resolve) => (release = resolve));
      return release;
    },
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
}
