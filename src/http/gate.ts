// The auth gate in front of the proxy: match a route, run its auth modes, check claims. Anything that is not
// explicitly admitted is answered here and never reaches an upstream.
import type { FastifyReply, FastifyRequest, HookHandlerDoneFunction } from 'fastify';
import { prefersHtml } from '../core/accept.ts';
import { hasAllClaims, narrowClaims } from '../core/claims.ts';
import { chain, isPromise, type MaybePromise } from '../core/maybe-promise.ts';
import type { Principal } from '../core/principal.ts';
import { type CompiledRoute, selectRoute } from '../core/routes.ts';
import { HeroError } from '../errors.ts';
import type { IdentityAssertions } from '../services/assertions.ts';
import type { AuthzFreshness } from '../services/authz-freshness.ts';
import type { ClaimResolver } from '../services/claims.ts';
import type { ModeTable } from './modes/index.ts';
import { sendProblem } from './problem.ts';
import type { HeroRequestState } from './state.ts';

export interface GateDeps {
  modes: ModeTable;
  assertions: IdentityAssertions;
  claims: ClaimResolver;
  freshness: AuthzFreshness;
}

/**
 * The sign-in page on the host the request came to, returning to the path it asked for. Same host, because
 * the session cookie is `__Host-` (bound to one origin) unless cookie_domain shares it.
 */
export function loginUrl(s: HeroRequestState, page = '/login'): string {
  const { server } = s.snapshot.config;
  const returnTo = encodeURIComponent(`${s.forward}${s.query}`);
  return `${s.proto}://${s.host.authority}${server.auth_prefix}${page}?return_to=${returnTo}`;
}

/** Where a browser signs in for this route: straight to its provider when that is the only way in. */
export function signInUrl(s: HeroRequestState, route: CompiledRoute): string {
  return route.directProvider === null ? loginUrl(s) : loginUrl(s, `/oauth/${route.directProvider}/start`);
}

function unauthorized(
  request: FastifyRequest,
  reply: FastifyReply,
  route: CompiledRoute,
  s: HeroRequestState,
): FastifyReply {
  const url = loginUrl(s);
  // Browsers on routes people sign in to are sent to the sign-in page; scripts and `api` routes get a 401
  // they can act on (a redirect to an HTML page would only confuse them).
  if (!route.api && route.signInPage && prefersHtml(request.headers.accept))
    return reply.code(303).header('location', signInUrl(s, route)).header('cache-control', 'no-store').send();
  // One answer for every kind of failure (no token, unknown, revoked, expired, disabled owner): the
  // response must not tell an attacker which of their guesses came closest.
  if (route.auth.includes('bearer')) reply.header('www-authenticate', 'Bearer realm="hero-gateway"');
  return sendProblem(reply, 'auth_required', { login_url: url });
}

export interface Admitted {
  principal: Principal;
  claims: readonly string[];
}

type Mode = Exclude<CompiledRoute['auth'][number], 'none'>;

/** The first of the route's modes that vouches for the request, tried in order; null when none does. */
function firstPrincipal(deps: GateDeps, request: FastifyRequest, route: CompiledRoute, i: number) {
  const modes = route.auth as readonly Mode[];
  if (i >= modes.length) return null;
  return chain(
    deps.modes[modes[i] as Mode](request, route),
    (p): MaybePromise<Principal | null> => p ?? firstPrincipal(deps, request, route, i + 1),
  );
}

/**
 * Freshness check (one store read), auth modes, then claims — every step on every request. Each step answers
 * at once when its cache can, so a cached identity never waits for another tick.
 */
export function authenticate(
  deps: GateDeps,
  request: FastifyRequest,
  route: CompiledRoute,
): MaybePromise<Admitted | null> {
  return chain(deps.freshness.refresh(), () =>
    chain(firstPrincipal(deps, request, route, 0), (principal) =>
      principal === null
        ? null
        : chain(deps.claims.claimsFor(principal.user.id, route.context), (held) => ({
            principal,
            claims: narrowClaims(held, principal.claimLimit),
          })),
    ),
  );
}

// Fail closed: when identities cannot be verified nothing is forwarded.
const storeFailure = (err: unknown) =>
  err instanceof HeroError
    ? err
    : new HeroError('store_unavailable', 'identity lookup failed', { cause: err });

// Callback-style so that `none` routes, refusals and cached identities finish in the same tick.
export function gateHook(deps: GateDeps) {
  return function gate(request: FastifyRequest, reply: FastifyReply, done: HookHandlerDoneFunction): void {
    const s = request.hero;
    const { table, config } = s.snapshot;
    const route = selectRoute(table, config.server.auth_prefix, s.host.hostname, s.path);
    // The gateway's own endpoints are never proxied, whatever the route table says.
    if (route === 'gateway') s.onAuthPath = true;
    if (route === 'gateway' || route === null) {
      sendProblem(reply, 'not_found');
      return;
    }
    s.route = route;
    if (route.auth[0] === 'none') {
      done();
      return;
    }
    const decide = (admitted: Admitted | null): void => {
      if (admitted === null) {
        unauthorized(request, reply, route, s);
        return;
      }
      // Known before the claims check so the refusal can say who was refused (page and access log); a
      // refused request is never forwarded, so nothing downstream acts on it.
      s.principal = admitted.principal;
      if (!hasAllClaims(admitted.claims, route.require_claims)) {
        sendProblem(reply, 'forbidden');
        return;
      }
      s.claims = admitted.claims;
      s.assertion = deps.assertions.for(admitted.principal, route.context, admitted.claims);
      done();
    };
    let result: MaybePromise<Admitted | null>;
    try {
      result = authenticate(deps, request, route);
    } catch (err) {
      done(storeFailure(err));
      return;
    }
    if (isPromise(result))
      result
        .then(decide, (err) => done(storeFailure(err)))
        .catch((err) => request.log.error({ err }, 'auth gate failed'));
    else decide(result);
  };
}
