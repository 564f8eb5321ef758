import * as http from 'node:http';
import type { AddressInfo } from 'node:net';

/**
 * A loopback HTTP server that serves one file the way a CDN does (Content-Length, Range requests
 * answered with 206), and can misbehave on purpose: cut the connection after N bytes, ignore Range,
 * stall, or answer 404. Every request is recorded.
 */
export interface ServerBehaviour {
  /** Destroy the socket after sending this many body bytes (once, then behave). */
  cutAfter?: number;
  ignoreRange?: boolean;
  /** Send the headers, then nothing. */
  stall?: boolean;
  status?: number;
}

export interface WeightsServer {
  url(name: string): string;
  base: string;
  requests: { url: string; range: string | null }[];
  behave(b: ServerBehaviour): void;
  close(): Promise<void>;
}

export async function startWeightsServer(files: Record<string, Uint8Array>): Promise<WeightsServer> {
  let behaviour: ServerBehaviour = {};
  const requests: WeightsServer['requests'] = [];
  const server = http.createServer((req, res) => {
    const name = decodeURIComponent((req.url ?? '/').slice(1));
    const range = req.headers.range ?? null;
    requests.push({ url: req.url ?? '', range });
    const body = files[name];
    if (behaviour.status || !body) {
      res.writeHead(behaviour.status ?? 404, { 'Content-Type': 'text/plain' });
      res.end('not here');
      return;
    }
    let start = 0;
    const m = range && !behaviour.ignoreRange ? /^bytes=(\d+)-$/.exec(range) : null;
    if (m) {
      start = Number(m[1]);
      if (start >= body.length) {
        res.writeHead(416, { 'Content-Range': `bytes */${body.length}` });
        res.end();
        return;
      }
      res.writeHead(206, { 'Content-Length': body.length - start, 'Content-Range': `bytes ${start}-${body.length - 1}/${body.length}`, 'Accept-Ranges': 'bytes' });
    } else {
      res.writeHead(200, { 'Content-Length': body.length, 'Accept-Ranges': 'bytes' });
    }
    if (behaviour.stall) {
      res.flushHeaders();
      return;
    }
    const cut = behaviour.cutAfter;
    if (cut !== undefined) {
      behaviour = { ...behaviour, cutAfter: undefined };
      res.write(body.subarray(start, start + cut), () => res.destroy());
      return;
    }
    res.end(body.subarray(start));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as AddressInfo).port;
  const base = `http://127.0.0.1:${port}/`;
  return {
    base,
    url: (name) => base + encodeURIComponent(name),
    requests,
    behave: (b) => {
      behaviour = b;
    },
    close: () => {
      server.closeAllConnections();
      return new Promise((resolve) => server.close(() => resolve()));
    },
  };
}

/** A port nothing listens on (bound, then released). */
export async function closedPort(): Promise<number> {
  const s = http.createServer();
  await new Promise<void>((resolve) => s.listen(0, '127.0.0.1', resolve));
  const port = (s.address() as AddressInfo).port;
  await new Promise((resolve) => s.close(resolve));
  return port;
}
