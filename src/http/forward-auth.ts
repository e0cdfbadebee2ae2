// GET /auth/forward: the gateway as the authentication server of a proxy that is already there — nginx
// `auth_request`, Traefik `ForwardAuth`, Caddy `forward_auth`. The proxy asks about the request it holds; the
// answer is 200 with the identity headers to copy, 401 / 403, or for browsers a redirect to sign in (nginx
// cannot pass a redirect through auth_request: it gets 401 and redirects with error_page).
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { prefersHtml } from '../core/accept.ts';
import { hasAllClaims } from '../core/claims.ts';
import { selectRoute } from '../core/routes.ts';
import { readOriginal } from './forward-auth-original.ts';
import { authenticate, type GateDeps, loginUrl, signInUrl } from './gate.ts';
import { originAllowed } from './origin-check.ts';
import { sendProblem } from './problem.ts';
import { PROXIED_METHODS } from './proxy.ts';
import type { HeroRequestState } from './state.ts';
import { inspectTarget } from './target.ts';

const IDENTITY = [
  'x-hero-user',
  'x-hero-email',
  'x-hero-context',
  'x-hero-claims',
  'x-hero-auth-method',
  'x-hero-assertion',
];

export async function forwardAuthRoutes(
  app: FastifyInstance,
  opts: { authPrefix: string; gate: GateDeps },
): Promise<void> {
  const { gate } = opts;
  app.get(`${opts.authPrefix}/forward`, async (request: FastifyRequest, reply: FastifyReply) => {
    reply.header('cache-control', 'no-store');
    const kind = request.hero.snapshot.config.forward_auth.headers;
    if (kind === undefined) {
      request.log.warn('forward-auth is off: set [forward_auth] headers = "nginx", "traefik" or "caddy"');
      return sendProblem(reply, 'not_found', { detail: 'forward-auth is off: set [forward_auth] headers' });
    }
    // Without a trusted proxy vouching for the original request there is nothing to decide: fail closed.
    if (!request.hero.snapshot.trusted(request.raw.socket.remoteAddress ?? ''))
      return sendProblem(reply, 'bad_request', { detail: 'forward-auth answers only trusted proxies' });
    const o = readOriginal(kind, request.raw);
    if (!o.ok) {
      request.log.info({ reason: o.reason }, 'refused forward-auth request');
      return sendProblem(reply, 'bad_request', { detail: 'the original request is not named as configured' });
    }
    const { original } = o;
    // From here on, exactly what a proxied request with this method, Host and target would get.
    const t = inspectTarget(original.target, original.host, original.proto);
    if (!t.ok) {
      if (t.reason) request.log.info({ reason: t.reason }, 'refused request target');
      return sendProblem(reply, t.code);
    }
    const s: HeroRequestState = { ...request.hero, ...t.target, proto: original.proto };
    const route = PROXIED_METHODS.includes(original.method)
      ? selectRoute(s.snapshot.table, s.snapshot.config.server.auth_prefix, s.host.hostname, s.path)
      : null;
    // No route: there is never an implicit open route. The gateway's own paths are never an app's.
    if (route === null || route === 'gateway') return sendProblem(reply, 'not_found');
    s.route = route;
    // An upgrade the proxy asks about gets the WebSocket path's rules: the route must allow it, and a cookie
    // must come from this host's own pages (checked once the identity is known, below).
    const upgrade = request.headers['sec-websocket-key'] !== undefined;
    if (upgrade && !route.websocket) return sendProblem(reply, 'not_found');
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
      if (kind !== 'nginx' && !route.api && route.signInPage && prefersHtml(request.headers.accept))
        return reply.code(303).header('location', signInUrl(s, route)).send();
      if (route.auth.includes('bearer')) reply.header('www-authenticate', 'Bearer realm="hero-gateway"');
      return sendProblem(reply, 'auth_required', { login_url: login });
    }
    if (!hasAllClaims(admitted.claims, route.require_claims)) return sendProblem(reply, 'forbidden');
    const { user, method } = admitted.principal;
    if (upgrade && method !== 'bearer' && !originAllowed(request.headers.origin, s, kind === 'nginx'))
      return sendProblem(reply, 'forbidden');
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
