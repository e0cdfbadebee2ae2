// GET /auth/forward: the gateway as the authentication server of a proxy that is already there — nginx
// `auth_request`, Traefik `ForwardAuth`, Caddy `forward_auth`. The proxy asks about the request it holds; the
// answer is 200 with the identity headers to copy, 401 / 403, or for browsers a redirect to sign in (nginx
// cannot pass a redirect through auth_request: it gets 401 and redirects with error_page).
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { authMethodLabel } from '../core/amr.ts';
import { unrendered } from '../core/decision.ts';
import { type HeaderMap, IDENTITY_HEADER_NAMES, setIdentityHeaders } from '../core/headers.ts';
import { decide, type GateDeps } from './decide.ts';
import { readOriginal } from './forward-auth-original.ts';
import { sendProblem } from './problem.ts';
import { PROXIED_METHODS } from './proxy.ts';
import type { HeroRequestState } from './state.ts';
import { inspectTarget } from './target.ts';

function challenge(reply: FastifyReply, bearer: boolean, login: string): FastifyReply {
  if (bearer) reply.header('www-authenticate', 'Bearer realm="hero-gateway"');
  return sendProblem(reply, 'auth_required', { login_url: login });
}

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
    // No route for this method either: the proxied path would answer 404 too.
    if (!PROXIED_METHODS.includes(original.method)) return sendProblem(reply, 'not_found');
    // An upgrade the proxy asks about gets the WebSocket path's rules: the route must allow it, and a cookie
    // must come from this host's own pages (nginx's `$host` carries no port: the host name must still match).
    const upgrade = request.headers['sec-websocket-key'] !== undefined;
    const d = await decide(gate, s, request.headers, upgrade, kind === 'nginx');
    switch (d.kind) {
      case 'not-found':
        return sendProblem(reply, 'not_found');
      case 'pass':
        // Open route: no identity. The headers are still named, empty, because some proxies copy a missing
        // one as a literal placeholder (Caddy 2.6 `copy_headers`) — empty is unambiguous, and nginx drops them.
        for (const h of IDENTITY_HEADER_NAMES) reply.header(h, '');
        return reply.code(200).send();
      case 'sign-in':
        // nginx cannot pass a redirect through auth_request: it gets the 401 and redirects with error_page.
        if (kind !== 'nginx') return reply.code(303).header('location', d.location).send();
        return challenge(reply, d.bearer, d.loginUrl);
      case 'challenge':
        return challenge(reply, d.bearer, d.loginUrl);
      case 'second-factor':
        // nginx cannot pass a redirect on: its 401 goes to the sign-in page, which sends a signed-in browser
        // that lacks the factor on to the challenge (pages/login.ts).
        if (kind !== 'nginx' && d.browser) return reply.code(303).header('location', d.location).send();
        return sendProblem(reply, 'mfa_required', { mfa_url: d.location });
      case 'forbidden':
        return sendProblem(reply, 'forbidden');
      case 'admit': {
        const identity: HeaderMap = {};
        setIdentityHeaders(identity, {
          username: d.principal.user.username,
          email: d.principal.user.email,
          context: d.route.context,
          claims: d.claims.join(','),
          authMethod: authMethodLabel(d.principal.method, d.principal.secondFactor),
          assertion: d.assertion,
        });
        return reply.headers(identity).code(200).send();
      }
      default:
        return sendProblem(reply, unrendered(d));
    }
  });
}
