// First step of every request (and WebSocket upgrade): normalize the target and Host, work out the client,
// refuse what is ambiguous.
import type { IncomingMessage } from 'node:http';
import type { FastifyReply, FastifyRequest, HookHandlerDoneFunction } from 'fastify';
import { BoundedCache } from '../core/bounded-cache.ts';
import { clientChain } from '../core/client-ip.ts';
import { type CanonicalHost, canonicalizeHost, normalizeTarget } from '../core/normalize.ts';
import type { ErrorCode } from '../errors.ts';
import { sendFailure } from './failure.ts';
import type { Snapshot, SnapshotHolder } from './snapshot.ts';
import type { HeroRequestState } from './state.ts';
import './state.ts';

const firstToken = (v: string | string[] | undefined) =>
  (Array.isArray(v) ? v[0] : v)?.split(',')[0]?.trim().toLowerCase();

// Valid Host values seen recently, canonicalized, per scheme (the default port differs). A gateway sees a
// handful of hosts; the cache empties itself rather than grow on invented ones.
const HOSTS = {
  http: new BoundedCache<string, CanonicalHost>(256),
  https: new BoundedCache<string, CanonicalHost>(256),
};

function canonicalHost(raw: string | undefined, proto: 'http' | 'https'): CanonicalHost | null {
  if (raw === undefined) return null;
  const cache = HOSTS[proto];
  const known = cache.get(raw);
  if (known) return known;
  const host = canonicalizeHost(raw, proto === 'https' ? 443 : 80);
  if (host) cache.set(raw, Object.freeze(host));
  return host;
}

/** How often `name` occurs in the raw headers (Node keeps only the first Host and Authorization). */
export function countHeaders(raw: string[], lengthOf: number, name: string): number {
  let n = 0;
  for (let i = 0; i < raw.length; i += 2) {
    const h = raw[i] as string;
    if (h.length === lengthOf && h.toLowerCase() === name) n++;
  }
  return n;
}

export type Inspection =
  | { ok: true; state: HeroRequestState }
  | { ok: false; code: ErrorCode; reason?: string };

export type TargetInspection =
  | { ok: true; target: Pick<HeroRequestState, 'path' | 'forward' | 'query' | 'host'> }
  | { ok: false; code: 'bad_path' | 'bad_host'; reason?: string };

/**
 * A request target and Host as the next hop will act on them, normalized and canonicalized — the same checks
 * for a proxied request, a WebSocket upgrade and the original request forward-auth is asked about.
 */
export function inspectTarget(
  rawTarget: string,
  rawHost: string | undefined,
  proto: 'http' | 'https',
): TargetInspection {
  const t = normalizeTarget(rawTarget);
  if (!t.ok) return { ok: false, code: 'bad_path', reason: t.reason };
  const host = canonicalHost(rawHost, proto);
  if (!host) return { ok: false, code: 'bad_host' };
  return { ok: true, target: { path: t.path, forward: t.forward, query: t.query, host } };
}

export function inspectRequest(raw: IncomingMessage, snapshot: Snapshot): Inspection {
  // Two Host or two Authorization headers mean two readings of one request: refuse rather than pick.
  if (countHeaders(raw.rawHeaders, 4, 'host') > 1) return { ok: false, code: 'bad_host' };
  if (countHeaders(raw.rawHeaders, 13, 'authorization') > 1)
    return { ok: false, code: 'duplicate_authorization' };
  const peer = raw.socket.remoteAddress ?? '';
  // X-Forwarded-Proto/Host are believed only from a trusted proxy; anyone else could claim anything.
  const trustedPeer = snapshot.trusted(peer);
  const fwdProto = trustedPeer ? firstToken(raw.headers['x-forwarded-proto']) : undefined;
  const proto =
    fwdProto === 'https' || fwdProto === 'http'
      ? fwdProto
      : (raw.socket as { encrypted?: boolean }).encrypted
        ? 'https'
        : 'http';
  const fwdHost = trustedPeer ? firstToken(raw.headers['x-forwarded-host']) : undefined;
  const t = inspectTarget(raw.url ?? '', fwdHost ?? raw.headers.host, proto);
  if (!t.ok) return t;
  const chain = clientChain(peer, raw.headers['x-forwarded-for'], snapshot.trusted);
  const { path, forward, query, host } = t.target;
  return {
    ok: true,
    state: {
      snapshot,
      path,
      forward,
      query,
      host,
      proto,
      clientIp: chain.ip,
      forwardedFor: chain.forwardedFor,
      route: null,
      principal: null,
      claims: [],
      assertion: null,
      forwarded: false,
      onAuthPath: false,
      consumedAuthorization: false,
    },
  };
}

export function targetHook(holder: SnapshotHolder) {
  return function target(request: FastifyRequest, reply: FastifyReply, done: HookHandlerDoneFunction): void {
    const inspected = inspectRequest(request.raw, holder.current);
    if (!inspected.ok) {
      if (inspected.reason) request.log.info({ reason: inspected.reason }, 'refused request target');
      // No request state yet: the page takes its branding from the snapshot this request would have had.
      sendFailure(request, reply, inspected.code, { snapshot: holder.current });
      return;
    }
    request.hero = inspected.state;
    done();
  };
}
