// First hook on every request: normalize the target and Host, work out the client, refuse what is ambiguous.
import type { FastifyReply, FastifyRequest, HookHandlerDoneFunction } from 'fastify';
import { clientChain } from '../core/client-ip.ts';
import { canonicalizeHost, normalizeTarget } from '../core/normalize.ts';
import { sendProblem } from './problem.ts';
import type { SnapshotHolder } from './snapshot.ts';
import './state.ts';

const firstToken = (v: string | string[] | undefined) =>
  (Array.isArray(v) ? v[0] : v)?.split(',')[0]?.trim().toLowerCase();

/** How often `name` occurs in the raw headers (Node keeps only the first Host and Authorization). */
function countHeaders(raw: string[], lengthOf: number, name: string): number {
  let n = 0;
  for (let i = 0; i < raw.length; i += 2) {
    const h = raw[i] as string;
    if (h.length === lengthOf && h.toLowerCase() === name) n++;
  }
  return n;
}

export function targetHook(holder: SnapshotHolder) {
  return function target(request: FastifyRequest, reply: FastifyReply, done: HookHandlerDoneFunction): void {
    const snapshot = holder.current;
    const raw = request.raw;
    const t = normalizeTarget(raw.url ?? '');
    if (!t.ok) {
      request.log.info({ reason: t.reason }, 'refused request target');
      sendProblem(reply, 'bad_path');
      return;
    }
    // Two Host or two Authorization headers mean two readings of one request: refuse rather than pick.
    if (countHeaders(raw.rawHeaders, 4, 'host') > 1) {
      sendProblem(reply, 'bad_host');
      return;
    }
    if (countHeaders(raw.rawHeaders, 13, 'authorization') > 1) {
      sendProblem(reply, 'duplicate_authorization');
      return;
    }
    const peer = raw.socket.remoteAddress ?? '';
    // X-Forwarded-Proto/Host are believed only from a trusted proxy; anyone else could claim anything.
    const trustedPeer = snapshot.trusted(peer);
    const fwdProto = trustedPeer ? firstToken(request.headers['x-forwarded-proto']) : undefined;
    const proto =
      fwdProto === 'https' || fwdProto === 'http'
        ? fwdProto
        : (raw.socket as { encrypted?: boolean }).encrypted
          ? 'https'
          : 'http';
    const fwdHost = trustedPeer ? firstToken(request.headers['x-forwarded-host']) : undefined;
    const host = canonicalizeHost(fwdHost ?? request.headers.host, proto === 'https' ? 443 : 80);
    if (!host) {
      sendProblem(reply, 'bad_host');
      return;
    }
    const chain = clientChain(peer, request.headers['x-forwarded-for'], snapshot.trusted);
    request.hero = {
      snapshot,
      path: t.path,
      forward: t.forward,
      query: t.query,
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
    };
    done();
  };
}
