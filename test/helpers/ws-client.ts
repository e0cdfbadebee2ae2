// The client side of WebSocket tests (the `ws` package): open a socket or learn why it was refused, watch it
// close, send a message through it, and a signed-in user's cookie to open one with.
import assert from 'node:assert/strict';
import type { IncomingMessage } from 'node:http';
import { WebSocket } from 'ws';
import { hashPassword } from '../../src/crypto/password.ts';
import { createUser } from '../../src/services/users.ts';
import { BrowserClient } from './browser-client.ts';
import type { TestGateway } from './gateway.ts';

export const PASSWORD = 'correct horse battery staple';

/** Opens a WebSocket; resolves with it once open, or with the HTTP status that refused the upgrade. */
export function open(
  url: string,
  headers: Record<string, string>,
): Promise<{ ws: WebSocket } | { status: number }> {
  return new Promise((resolve) => {
    const ws = new WebSocket(url, { headers });
    ws.once('open', () => resolve({ ws }));
    ws.once('unexpected-response', (_req, res) => {
      resolve({ status: res.statusCode ?? 0 });
      res.resume();
    });
    ws.once('error', () => resolve({ status: -1 }));
  });
}

/** 101 (the tunnel is closed again at once) or the HTTP status that refused the upgrade. */
export async function statusOf(url: string, headers: Record<string, string>): Promise<number> {
  const r = await open(url, headers);
  if (!('ws' in r)) return r.status;
  r.ws.close();
  return 101;
}

/** Opens a WebSocket and resolves once it is open, with the 101 answer the client got. */
export function handshake(url: string): Promise<{ ws: WebSocket; res: IncomingMessage }> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(url);
    let res: IncomingMessage | undefined;
    ws.once('upgrade', (r) => {
      res = r;
    });
    ws.once('open', () => resolve({ ws, res: res! }));
    ws.once('error', reject);
  });
}

/** Opens a WebSocket that must open; later errors are only what an abrupt close looks like. */
export async function tunnel(url: string, headers: Record<string, string>): Promise<WebSocket> {
  const r = await open(url, headers);
  assert.ok('ws' in r, `no tunnel: ${JSON.stringify(r)}`);
  r.ws.on('error', () => {});
  return r.ws;
}

/** Whether the socket closes within `ms`. */
export function closesWithin(ws: WebSocket, ms: number): Promise<boolean> {
  if (ws.readyState === WebSocket.CLOSED) return Promise.resolve(true);
  return new Promise((resolve) => {
    const timer = setTimeout(() => resolve(false), ms);
    ws.once('close', () => {
      clearTimeout(timer);
      resolve(true);
    });
  });
}

/** Whether a message still goes through the tunnel and back. */
export function echoes(ws: WebSocket): Promise<boolean> {
  return new Promise((resolve) => {
    const timer = setTimeout(() => resolve(false), 2000);
    ws.once('message', (m) => {
      clearTimeout(timer);
      resolve(String(m) === 'echo ping');
    });
    ws.send('ping');
  });
}

/** A new user, signed in through the real form; the Cookie header its browser would send. */
export async function signedIn(
  gw: TestGateway,
  username: string,
): Promise<{ cookie: string; userId: string }> {
  const user = await createUser(gw.store, {
    username,
    email: `${username}@example.com`,
    emailVerified: true,
    passwordHash: await hashPassword(PASSWORD),
  });
  const b = new BrowserClient(gw.url);
  await b.signIn(username, PASSWORD, '/');
  assert.match(b.cookieHeader(), /hero_session=/);
  return { cookie: b.cookieHeader(), userId: user.id };
}
