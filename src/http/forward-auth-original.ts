// The original request a front proxy asks /auth/forward about, read from that proxy's own headers and no
// others. Only this parsing differs per proxy; the decision about the request is the proxied path's own.
import type { IncomingMessage } from 'node:http';
import type { ForwardAuthProxy } from '../config/schema.ts';
import { splitAbsoluteUrl } from '../core/normalize.ts';
import { countHeaders } from './target.ts';

export interface OriginalRequest {
  method: string;
  proto: 'http' | 'https';
  /** The Host as the proxy acts on it, raw: canonicalized like any Host. */
  host: string;
  /** The request-target as the proxy passes it on, raw: normalized like any request target. */
  target: string;
}

export type OriginalResult = { ok: true; original: OriginalRequest } | { ok: false; reason: string };

// nginx sends the URL it builds (`$scheme://$host$request_uri`); Traefik and Caddy send its parts.
const NGINX = ['x-original-url', 'x-original-method'] as const;
const FORWARDED = ['x-forwarded-method', 'x-forwarded-proto', 'x-forwarded-host', 'x-forwarded-uri'] as const;
const FAMILY: Record<ForwardAuthProxy, { read: readonly string[]; foreign: readonly string[] }> = {
  nginx: { read: NGINX, foreign: ['x-forwarded-method', 'x-forwarded-uri'] },
  traefik: { read: FORWARDED, foreign: NGINX },
  caddy: { read: FORWARDED, foreign: NGINX },
};

const METHOD = /^[A-Z]{1,20}$/;

/**
 * The original request, or why it cannot be known. Headers of the other proxies' family are refused, not
 * ignored: a proxy that forwards every client header (Caddy, Traefik) would otherwise let a client choose the
 * URL that is authorized. Two copies of a header are two readings of one request, and refused too.
 */
export function readOriginal(kind: ForwardAuthProxy, raw: IncomingMessage): OriginalResult {
  const family = FAMILY[kind];
  for (const name of family.foreign)
    if (countHeaders(raw.rawHeaders, name.length, name) > 0)
      return { ok: false, reason: `${name} is not sent by ${kind}: refused` };
  for (const name of family.read) {
    const n = countHeaders(raw.rawHeaders, name.length, name);
    if (n !== 1) return { ok: false, reason: n === 0 ? `${name} is missing` : `${name} is sent ${n} times` };
  }
  const h = raw.headers as Record<string, string>;
  if (kind === 'nginx') {
    const u = splitAbsoluteUrl(h['x-original-url'] as string);
    if (!u) return { ok: false, reason: 'x-original-url is not an absolute http(s) URL' };
    return checked({
      method: h['x-original-method'] as string,
      proto: u.proto,
      host: u.authority,
      target: u.target,
    });
  }
  const proto = h['x-forwarded-proto'];
  if (proto !== 'http' && proto !== 'https') return { ok: false, reason: 'x-forwarded-proto is not http(s)' };
  return checked({
    method: h['x-forwarded-method'] as string,
    proto,
    host: h['x-forwarded-host'] as string,
    target: h['x-forwarded-uri'] as string,
  });
}

function checked(o: OriginalRequest): OriginalResult {
  if (!METHOD.test(o.method)) return { ok: false, reason: 'the original method is not a method' };
  return { ok: true, original: o };
}
