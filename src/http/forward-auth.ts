// GET /auth/forward: the gateway as the authentication server of a proxy that is already there — nginx
// `auth_request`, Traefik `ForwardAuth`, Caddy `forward_auth`. The proxy asks about the request it holds; the
// answer is 200 with the identity headers to copy, 401 / 403, or for browsers a redirect to sign in.
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { prefersHtml } from '../core/accept.ts';
import { hasAllClaims } from '../core/claims.ts';
import { canonicalizeHost, normalizeTarget } from '../core/normalize.ts';
import { matchRoute, pathMatches } from '../core/routes.ts';
import { authenticate, type GateDeps, loginUrl, signInUrl } from './gate.ts';
import { sendProblem } from './problem.ts';
import type { HeroRequestState } from './state.ts';

const IDENTITY = [
  'x-hero-user',
  'x-hero-email',
  'x-hero-context',
  'x-hero-claims',
  'x-hero-auth-method',
  'x-hero-assertion',
];

const one = (v: string | string[] | undefined) => (Array.isArray(v) ? v[0] : v)?.trim();

interface Original {
  proto: 'http' | 'https';
  hostHeader: string;
  uri: string;
  /** nginx cannot pass a redirect through auth_request: it gets 401 and redirects with error_page. */
  nginx: boolean;
}

/** The request the proxy is asking about, from its headers: believed only from a trusted proxy. */
function original(request: FastifyRequest): Original | null {
  const s = request.hero;
  if (!s.snapshot.trusted(request.raw.socket.remoteAddress ?? '')) return null;
  const h = request.headers;
  const originalUrl = one(h['x-original-url']);
  if (originalUrl) {
    try {
      const u = new URL(originalUrl);
      const proto = u.protocol === 'https:' ? 'https' : 'http';
      return { proto, hostHeader: u.host, uri: `${u.pathname}${u.search}`, nginx: true };
    } catch {
      return null;
    }
  }
  const uri = one(h['x-forwarded-uri']);
  const host = one(h['x-forwarded-host']);
  if (!uri || !host) return null;
  return {
    proto: one(h['x-forwarded-proto']) === 'https' ? 'https' : 'http',
    hostHeader: host,
    uri,
    nginx: false,
  };
}

export async function forwardAuthRoutes(
  app: FastifyInstance,
  opts: { authPrefix: string; gate: GateDeps },
): Promise<void> {
  const { gate } = opts;
  app.get(`${opts.authPrefix}/forward`, async (request: FastifyRequest, reply: FastifyReply) => {
    reply.header('cache-control', 'no-store');
    const o = original(request);
    // Without a trusted proxy vouching for the original request there is nothing to decide: fail closed.
    if (!o) return sendProblem(reply, 'bad_request', { detail: 'forward-auth answers only trusted proxies' });
    const t = normalizeTarget(o.uri);
    const host = canonicalizeHost(o.hostHeader, o.proto === 'https' ? 443 : 80);
    if (!t.ok || !host) return sendProblem(reply, 'bad_path');
    const s: HeroRequestState = {
      ...request.hero,
      path: t.path,
      forward: t.forward,
      query: t.query,
      host,
      proto: o.proto,
    };
    const route = pathMatches(s.snapshot.config.server.auth_prefix, s.path)
      ? null
      : matchRoute(s.snapshot.table, host.hostname, t.path);
    // No route: there is never an implicit open route.
    if (!route) return sendProblem(reply, 'forbidden');
    s.route = route;
    // Open route: no identity. The headers are still named, empty, because some proxies copy a missing one as
    // a literal placeholder (Caddy 2.6 `copy_headers`) — empty is unambiguous, and nginx drops empty headers.
    if (route.auth[0] === 'none') {
      for (const h of IDENTITY) reply.header(h, '');
      return reply.code(200).send();
    }
    const asked = { headers: request.headers, hero: s } as unknown as FastifyRequest;
    const admitted = await authenticate(gate, asked, route);
    if (!admitted) {
      const login = loginUrl(s);
      if (!o.nginx && !route.api && route.signInPage && prefersHtml(request.headers.accept))
        return reply.code(303).header('location', signInUrl(s, route)).send();
      if (route.auth.includes('bearer')) reply.header('www-authenticate', 'Bearer realm="hero-gateway"');
      return sendProblem(reply, 'auth_required', { login_url: login });
    }
    if (!hasAllClaims(admitted.claims, route.require_claims)) return sendProblem(reply, 'forbidden');
    const { user, method } = admitted.principal;
    reply
      .header('x-hero-user', user.username)
      .header('x-hero-email', user.email)
      .header('x-hero-context', route.context)
      .header('x-hero-claims', admitted.claims.join(','))
      .header('x-hero-auth-method', method)
      .header('x-hero-assertion', gate.assertions.for(admitted.principal, route.context, admitted.claims));
    return reply.code(200).send();
  });
}
