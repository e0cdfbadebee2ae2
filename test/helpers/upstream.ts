// A real upstream on port 0 that records every request it receives, for asserting what the app saw.
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface Seen {
  method: string;
  url: string;
  headers: IncomingHttpHeaders;
  rawHeaders: string[];
  body: Buffer;
}

export interface Upstream {
  url: string;
  port: number;
  seen: Seen[];
  /** Milliseconds to wait before answering (for timeout tests). */
  delayMs: number;
  /** Extra response headers (for response-hygiene tests). */
  respondWith: Record<string, string | string[]>;
  close(): Promise<void>;
}

export async function startUpstream(): Promise<Upstream> {
  const seen: Seen[] = [];
  const state = { delayMs: 0, respondWith: {} as Record<string, string | string[]> };
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const entry: Seen = {
        method: req.method ?? '',
        url: req.url ?? '',
        headers: req.headers,
        rawHeaders: req.rawHeaders,
        body: Buffer.concat(chunks),
      };
      seen.push(entry);
      const answer = () => {
        res.writeHead(200, { 'content-type': 'application/json', 'x-upstream': 'yes', ...state.respondWith });
        res.end(JSON.stringify({ url: entry.url, bytes: entry.body.length }));
      };
      if (state.delayMs > 0) setTimeout(answer, state.delayMs);
      else answer();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    port,
    seen,
    get delayMs() {
      return state.delayMs;
    },
    set delayMs(v: number) {
      state.delayMs = v;
    },
    get respondWith() {
      return state.respondWith;
    },
    set respondWith(v: Record<string, string | string[]>) {
      state.respondWith = v;
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
