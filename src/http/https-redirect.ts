// `http_redirect`: a plain-http listener that sends every request to the https one, and does nothing else — no
// proxying, no sign-in pages, no cookies — so nothing that matters ever travels unencrypted through it.
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { SnapshotHolder } from './snapshot.ts';

/** Where a request for `target` goes: public_url's origin with the same path and query. */
export function redirectLocation(publicOrigin: string, target: string | undefined): string {
  // Only public_url's origin, never the request's Host: a Host-based redirect would send visitors anywhere an
  // attacker names. A target that is not a path (absolute-form "http://x/", "*") gets the front page.
  const path = target?.startsWith('/') ? target : '/';
  return publicOrigin + path;
}

export function httpsRedirectServer(holder: SnapshotHolder): Server {
  const server = createServer((req: IncomingMessage, res: ServerResponse) => {
    const origin = holder.current.publicOrigin;
    let location = redirectLocation(origin, req.url);
    try {
      res.setHeader('location', location);
    } catch {
      location = `${origin}/`; // a target Node will not put in a header as it came
      res.setHeader('location', location);
    }
    // 308 keeps the method and body (a form POST stays a POST). Browsers keep a permanent redirect for ever
    // unless told otherwise; an hour lets a changed public_url take over.
    res.writeHead(308, {
      'content-type': 'text/plain; charset=utf-8',
      'cache-control': 'max-age=3600',
      // The body repeats the client's path: never let a browser sniff it into something else.
      'x-content-type-options': 'nosniff',
    });
    res.end(`Moved to ${location}\n`);
  });
  // Nothing here needs a long-lived connection.
  server.keepAliveTimeout = 2_000;
  server.requestTimeout = 10_000;
  server.headersTimeout = 10_000;
  return server;
}
