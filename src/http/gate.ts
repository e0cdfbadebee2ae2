// The auth gate in front of the proxy: match a route, run its auth modes, check claims. Anything that is not
// explicitly admitted is answered here and never reaches an upstream.
import type { FastifyReply, FastifyRequest, HookHandlerDoneFunction } from 'fastify';
import { hasAllClaims, narrowClaims } from '../core/claims.ts';
import type { Principal } from '../core/principal.ts';
import { type CompiledRoute, matchRoute, pathMatches } from '../core/routes.ts';
import { HeroError } from '../errors.ts';
import type { AuthzFreshness } from '../services/authz-freshness.ts';
import type { ClaimResolver } from '../services/claims.ts';
import type { ModeTable } from './modes/index.ts';
import { sendProblem } from './problem.ts';
import type { HeroRequestState } from './state.ts';

export interface GateDeps {
  modes: ModeTable;
  claims: ClaimResolver;
  freshness: AuthzFreshness;
}

export function loginUrl(s: HeroRequestState): string {
  const { server } = s.snapshot.config;
  const returnTo = `${s.proto}://${s.host.authority}${s.forward}${s.query}`;
  return `${s.snapshot.publicOrigin}${server.auth_prefix}/login?return_to=${encodeURIComponent(returnTo)}`;
}

function unauthorized(reply: FastifyReply, route: CompiledRoute, s: HeroRequestState): FastifyReply {
  // One answer for every kind of failure (no token, unknown, revoked, expired, disabled owner): the
  // response must not tell an attacker which of their guesses came closest.
  if (route.auth.includes('bearer')) reply.header('www-authenticate', 'Bearer realm="hero-gateway"');
  return sendProblem(reply, 'auth_required', { login_url: loginUrl(s) });
}

// Callback-style so that `none` routes (and refusals) finish synchronously without a promise per request;
// authenticated routes continue in `authenticate`, which runs every check on every request as before.
export function gateHook(deps: GateDeps) {
  return function gate(request: FastifyRequest, reply: FastifyReply, done: HookHandlerDoneFunction): void {
    const s = request.hero;
    // The gateway's own endpoints are never proxied, whatever the route table says.
    if (pathMatches(s.snapshot.config.server.auth_prefix, s.path)) {
      sendProblem(reply, 'not_found');
      return;
    }
    const route = matchRoute(s.snapshot.table, s.host.hostname, s.path);
    if (!route) {
      sendProblem(reply, 'not_found');
      return;
    }
    s.route = route;
    if (route.auth[0] === 'none') {
      done();
      return;
    }
    authenticate(deps, request, reply, route, s).then((answered) => {
      if (!answered) done();
    }, done);
  };
}

/** Runs the route's auth modes and claim check; true when it already answered (401/403). */
async function authenticate(
  deps: GateDeps,
  request: FastifyRequest,
  reply: FastifyReply,
  route: CompiledRoute,
  s: HeroRequestState,
): Promise<boolean> {
  let principal: Principal | null = null;
  let claims: readonly string[] = [];
  try {
    await deps.freshness.refresh(); // one store read: drops cached tokens and claims if anything changed
    for (const mode of route.auth) {
      principal = await deps.modes[mode as Exclude<typeof mode, 'none'>](request);
      if (principal) break;
    }
    if (principal)
      claims = narrowClaims(
        await deps.claims.claimsFor(principal.user.id, route.context),
        principal.claimLimit,
      );
  } catch (err) {
    if (err instanceof HeroError) throw err;
    // Fail closed: when identities cannot be verified nothing is forwarded.
    throw new HeroError('store_unavailable', 'identity lookup failed', { cause: err });
  }
  if (!principal) {
    unauthorized(reply, route, s);
    return true;
  }
  if (!hasAllClaims(claims, route.require_claims)) {
    sendProblem(reply, 'forbidden');
    return true;
  }
  s.principal = principal;
  s.claims = claims;
  return false;
}
