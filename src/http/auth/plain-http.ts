// Sign-in over plain http on a host that is not public_url's. The gateway's cookies are Secure whenever
// public_url is https or a loopback host (settings.ts); a browser that reaches the gateway over plain http on
// any other host drops them, so a sign-in form there could only ever fail its CSRF check ("Form expired").
// Such a browser gets no form: it is told what is wrong and how to fix it.
import type { FastifyReply, FastifyRequest } from 'fastify';
import { isSecureContextHost } from '../../core/loopback.ts';
import { sendFailure } from '../failure.ts';
import type { Snapshot } from '../snapshot.ts';
import type { HeroRequestState } from '../state.ts';
import { insecureTransportFixes } from '../views/error-page.ts';

/**
 * True when this browser cannot keep the gateway's cookies. Judged from the scheme the gateway decided on
 * (X-Forwarded-Proto counts only from a trusted proxy) and the host it serves the page on — never from a
 * header the client alone chose — because that is what the browser itself sees.
 */
export function cookiesDroppedHere(s: HeroRequestState): boolean {
  // Browsers keep Secure cookies over http on loopback hosts only (they are secure contexts).
  return s.snapshot.auth.csrf.secure && s.proto === 'http' && !isSecureContextHost(s.host.hostname);
}

// Hosts already named in the log, per config snapshot: one line per host, so a busy LAN cannot flood the
// log; a reload (new snapshot) says it again. Bounded, because the Host header is the client's to choose.
const warned = new WeakMap<Snapshot, Set<string>>();
const MAX_WARNED_HOSTS = 64;

function warnOnce(request: FastifyRequest, here: string, publicUrl: string): void {
  const snapshot = request.hero.snapshot;
  let hosts = warned.get(snapshot);
  if (!hosts) {
    hosts = new Set();
    warned.set(snapshot, hosts);
  }
  if (hosts.has(here) || hosts.size >= MAX_WARNED_HOSTS) return;
  hosts.add(here);
  request.log.warn(
    { host: here, code: 'insecure_transport' },
    `sign-in refused at ${here}: plain http there drops the Secure cookies; serve https ([server] tls_cert and tls_key, or a TLS proxy in front), use public_url (${publicUrl}), or for development only set public_url = "${here}"`,
  );
}

/** The 400 insecure_transport answer: a page naming the fixes for browsers, problem+json for scripts. */
export function refuseInsecureTransport(request: FastifyRequest, reply: FastifyReply): FastifyReply {
  const s = request.hero;
  const here = `${s.proto}://${s.host.authority}`;
  const publicUrl = s.snapshot.config.server.public_url.replace(/\/$/, '');
  warnOnce(request, here, publicUrl);
  // The same page at public_url's address: a GET as asked (return_to and all), a form post starts again.
  const publicHref =
    request.method === 'GET'
      ? `${s.snapshot.publicOrigin}${s.forward}${s.query}`
      : `${s.snapshot.publicOrigin}${s.snapshot.config.server.auth_prefix}/login`;
  return sendFailure(request, reply, 'insecure_transport', {
    text: `You reached ${here} over plain HTTP, where your browser drops the gateway's sign-in cookies: signing in cannot work here.`,
    more: insecureTransportFixes({ here, publicUrl, publicHref }),
    link: { href: publicHref, label: `Continue at ${publicUrl}` },
    extra: { public_url: publicUrl },
  });
}
