// The admin listener answers only Hosts that name it: loopback names, IP literals, and `admin.hosts`. A web
// page whose own name an attacker re-points at 127.0.0.1 (DNS rebinding) sends its own name as the Host, so
// it is refused before any route runs — /metrics included, which needs no token.

import { isIP } from 'node:net';
import type { FastifyReply, FastifyRequest, HookHandlerDoneFunction } from 'fastify';
import { isSecureContextHost } from '../../core/loopback.ts';
import { canonicalizeHost } from '../../core/normalize.ts';
import { sendProblem } from '../problem.ts';
import { countHeaders } from '../target.ts';

/** Whether the admin listener serves a request for `hostname` (canonical: lower-case, no port). */
export function adminHostAllowed(hostname: string, names: ReadonlySet<string>): boolean {
  if (isSecureContextHost(hostname) || names.has(hostname)) return true;
  // An IP literal cannot come from rebinding: the browser sends the name it resolved, never the address.
  return isIP(hostname.startsWith('[') ? hostname.slice(1, -1) : hostname) !== 0;
}

export function adminHostGuard(hosts: readonly string[]) {
  const names = new Set(hosts);
  return function guard(request: FastifyRequest, reply: FastifyReply, done: HookHandlerDoneFunction): void {
    const raw = request.raw;
    // Two Host or two Authorization headers are two readings of one request: refuse rather than pick.
    if (countHeaders(raw.rawHeaders, 4, 'host') > 1) return void sendProblem(reply, 'bad_host');
    if (countHeaders(raw.rawHeaders, 13, 'authorization') > 1)
      return void sendProblem(reply, 'duplicate_authorization');
    const host = canonicalizeHost(raw.headers.host, 80);
    if (!host || !adminHostAllowed(host.hostname, names)) {
      request.log.info(
        { host: raw.headers.host },
        'admin listener: refused a Host not configured in admin.hosts',
      );
      return void sendProblem(reply, 'bad_host');
    }
    done();
  };
}
