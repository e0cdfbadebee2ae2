// WebSocket upgrades: the same gate as any request (route, auth modes, claims, header hygiene, identity
// headers), then a tunnel to the upstream that opens only once the upstream has answered 101, and stays open
// only while what admitted it still does (see tunnels.ts).
import { randomUUID } from 'node:crypto';
import { request as httpRequest, type IncomingMessage, type Server } from 'node:http';
import { request as httpsRequest } from 'node:https';
import type { Duplex } from 'node:stream';
import type { FastifyBaseLogger } from 'fastify';
import { unrendered } from '../core/decision.ts';
import { cleanResponseHeaders, dropSetCookies, type HeaderMap } from '../core/headers.ts';
import type { MaybePromise } from '../core/maybe-promise.ts';
import { upstreamPath } from '../core/routes.ts';
import { type ErrorCode, problem } from '../errors.ts';
import { decide, type GateDeps } from './decide.ts';
import type { SnapshotHolder } from './snapshot.ts';
import { inspectRequest } from './target.ts';
import { tunnelAdmission } from './tunnel-admission.ts';
import type { TunnelWatch } from './tunnels.ts';
import { upstreamHeaders } from './upstream-headers.ts';

/** An answer written straight to the socket (an upgrade has no Fastify reply), then the socket is closed. */
function refuse(socket: Duplex, code: ErrorCode, headers: Record<string, string> = {}): void {
  const body = JSON.stringify(problem(code));
  const extra = Object.entries(headers)
    .map(([k, v]) => `${k}: ${v}\r\n`)
    .join('');
  socket.end(
    `HTTP/1.1 ${problem(code).status} ${problem(code).title}\r\nContent-Type: application/problem+json; charset=utf-8\r\n` +
      `Cache-Control: no-store\r\nConnection: close\r\nContent-Length: ${Buffer.byteLength(body)}\r\n${extra}\r\n${body}`,
  );
}

// The upstream's 101 answer as the client may see it: the handshake headers, nothing hop-by-hop of its own.
const HANDSHAKE = /^(sec-websocket-(accept|protocol|extensions)|set-cookie)$/;

/**
 * The 101 the client gets. Only the handshake headers pass, cleaned like any answer's, and Set-Cookie goes
 * through the same filter as on HTTP answers: a browser stores cookies from a 101 too, so an app (even on an
 * open route) could otherwise plant, swap or clear the gateway's session for every route of its host.
 */
function switchingProtocols(res: IncomingMessage): string {
  const kept: HeaderMap = {};
  for (const [name, value] of Object.entries(res.headers)) if (HANDSHAKE.test(name)) kept[name] = value;
  const clean = cleanResponseHeaders(kept);
  dropSetCookies(clean);
  const lines = Object.entries(clean)
    .flatMap(([k, v]) => (Array.isArray(v) ? v : v === undefined ? [] : [v]).map((x) => `${k}: ${x}\r\n`))
    .join('');
  return `HTTP/1.1 101 Switching Protocols\r\nConnection: Upgrade\r\nUpgrade: websocket\r\n${lines}\r\n`;
}

export function websocketUpgrades(
  server: Server,
  holder: SnapshotHolder,
  deps: GateDeps,
  log: FastifyBaseLogger,
  tunnels: TunnelWatch,
): void {
  server.on('upgrade', (raw: IncomingMessage, socket: Duplex, head: Buffer) => {
    socket.on('error', () => socket.destroy());
    upgrade(raw, socket, head, holder, deps, tunnels).catch((err) => {
      log.warn({ err }, 'websocket upgrade failed');
      refuse(socket, 'store_unavailable');
    });
  });
}

async function upgrade(
  raw: IncomingMessage,
  socket: Duplex,
  head: Buffer,
  holder: SnapshotHolder,
  deps: GateDeps,
  tunnels: TunnelWatch,
) {
  const snapshot = holder.current;
  const inspected = inspectRequest(raw, snapshot);
  if (!inspected.ok) return refuse(socket, inspected.code);
  const s = inspected.state;
  // Only WebSocket: an h2c or other protocol switch would be a tunnel nobody inspected.
  if (String(raw.headers.upgrade).toLowerCase() !== 'websocket' || raw.method !== 'GET')
    return refuse(socket, 'bad_request');
  const d = await decide(deps, s, raw.headers, true);
  // An upgrade has no Fastify reply and a handshake cannot follow a redirect: a browser that would be sent to
  // sign in gets the 401 a script would.
  if (d.kind === 'not-found') return refuse(socket, 'not_found');
  if (d.kind === 'sign-in' || d.kind === 'challenge')
    return refuse(
      socket,
      'auth_required',
      d.bearer ? { 'WWW-Authenticate': 'Bearer realm="hero-gateway"' } : {},
    );
  if (d.kind === 'second-factor') return refuse(socket, 'mfa_required');
  if (d.kind === 'forbidden') return refuse(socket, 'forbidden');
  // Only these two open a tunnel: a kind of decision added later is refused here until it is rendered above
  // (the type check names it), never tunnelled as if the route were open.
  if (d.kind !== 'pass' && d.kind !== 'admit') return refuse(socket, unrendered(d));
  const route = d.route;
  s.route = route;
  let stillAdmitted: (() => MaybePromise<boolean>) | null = null;
  if (d.kind === 'admit') {
    s.principal = d.principal;
    s.claims = d.claims;
    s.assertion = d.assertion;
    s.consumedAuthorization = d.consumedAuthorization;
    // A tunnel is one request that lasts: it is re-decided while it is open, not only when it opens.
    stillAdmitted = tunnelAdmission(deps, raw.headers, s, route, d);
  }
  // The client may have left while the gate was deciding; then there is nothing to open or to watch.
  if (socket.destroyed) return;
  const forget = tunnels.add({ stillAdmitted, close: () => socket.destroy() });
  socket.once('close', forget);
  if (socket.destroyed) return; // the gateway is shutting down
  const fail = (code: ErrorCode) => {
    forget();
    refuse(socket, code);
  };

  const headers = upstreamHeaders(s, raw.headers, randomUUID());
  headers.connection = 'Upgrade';
  headers.upgrade = 'websocket';

  // An upgrade has no body: a claimed one would desynchronize the upstream connection.
  delete headers['content-length'];
  delete headers['transfer-encoding'];
  const target = new URL(`${upstreamPath(route, s.forward)}${s.query}`, route.upstreamOrigin);
  const send = target.protocol === 'https:' ? httpsRequest : httpRequest;
  // agent: false: an upgrade connection is never pooled, so no other client's request can follow it.
  const up = send(target, {
    method: 'GET',
    headers: headers as Record<string, string>,
    timeout: route.timeout,
    agent: false,
  });
  // A client that leaves before the upstream answered takes the pending upstream connection with it.
  socket.once('close', () => up.destroy());
  up.on('upgrade', (res, upSocket, upHead) => {
    if (socket.destroyed) {
      upSocket.destroy();
      return;
    }
    // latin1: header bytes go out exactly as Node read them (it reads them as latin1).
    socket.write(switchingProtocols(res), 'latin1');
    if (upHead.length) socket.write(upHead);
    if (head.length) upSocket.write(head);
    upSocket.on('error', () => socket.destroy());
    socket.on('close', () => upSocket.destroy());
    upSocket.on('close', () => socket.destroy());
    upSocket.pipe(socket).pipe(upSocket);
  });
  // Anything but 101: no tunnel.
  up.on('response', (res) => {
    res.resume();
    fail('upstream_unavailable');
  });
  up.on('timeout', () => {
    up.destroy();
    fail('upstream_timeout');
  });
  up.on('error', () => fail('upstream_unavailable'));
  up.end();
}
