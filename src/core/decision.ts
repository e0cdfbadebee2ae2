// The auth decision as a value: what any request — proxied, a WebSocket upgrade, or the original request
// forward-auth is asked about — gets, once its route is matched and its credentials are read. Pure: which outcome
// follows from the route, the principal, its claims and what the client accepts. The entry points only render it.
import { prefersHtml } from './accept.ts';
import { hasSecondFactor } from './amr.ts';
import { hasAllClaims } from './claims.ts';
import type { Principal } from './principal.ts';
import type { CompiledRoute } from './routes.ts';

export type Decision =
  /** An open route (`auth = "none"`): forwarded with no identity. */
  | { kind: 'pass'; route: CompiledRoute }
  | {
      kind: 'admit';
      route: CompiledRoute;
      principal: Principal;
      claims: readonly string[];
      /** The signed X-Hero-Assertion. */
      assertion: string;
      /** The Authorization header is what admitted the request (it is not passed on unless the route says so). */
      consumedAuthorization: boolean;
    }
  /** A browser on a route people sign in to: 303 to `location`. Renderers that cannot redirect answer as a challenge. */
  | { kind: 'sign-in'; route: CompiledRoute; location: string; loginUrl: string; bearer: boolean }
  /** 401, with `WWW-Authenticate: Bearer` when the route takes tokens. */
  | { kind: 'challenge'; route: CompiledRoute; loginUrl: string; bearer: boolean }
  /**
   * A session without the second factor the route (or the operator) requires: browsers are sent to add it
   * (303 to `location`), everything else gets 401 `mfa_required`. Checked before claims: what a one-factor
   * session may reach is not even revealed by a 403.
   */
  | { kind: 'second-factor'; route: CompiledRoute; principal: Principal; location: string; browser: boolean }
  /** 403. `principal` is who was refused, when known (pages and the access log name them). */
  | { kind: 'forbidden'; route: CompiledRoute; principal: Principal }
  /** 404: no route, a route that takes no upgrades, or (authPath) the gateway's own paths, never proxied. */
  | { kind: 'not-found'; authPath: boolean };

export const NOT_FOUND: Decision = Object.freeze({ kind: 'not-found', authPath: false });
export const NOT_FOUND_AUTH_PATH: Decision = Object.freeze({ kind: 'not-found', authPath: true });

/** Where the request was going, normalized: what a sign-in link returns to. */
export interface TargetFacts {
  proto: 'http' | 'https';
  host: { authority: string };
  forward: string;
  query: string;
}

/** Who an auth mode vouched for, with the claims they hold in the route's context. */
export interface Admitted {
  principal: Principal;
  claims: readonly string[];
  consumedAuthorization: boolean;
}

/** Signs the identity an upstream receives (services/assertions.ts). */
export interface Asserter {
  for(principal: Principal, context: string, claims: readonly string[]): string;
}

/**
 * The sign-in page on the host the request came to, returning to the path it asked for. Same host, because
 * the session cookie is `__Host-` (bound to one origin) unless cookie_domain shares it.
 */
export function loginUrl(t: TargetFacts, authPrefix: string, page = '/login'): string {
  const returnTo = encodeURIComponent(`${t.forward}${t.query}`);
  return `${t.proto}://${t.host.authority}${authPrefix}${page}?return_to=${returnTo}`;
}

/** Where a browser signs in for this route: straight to its provider when that is the only way in. */
export function signInUrl(t: TargetFacts, authPrefix: string, route: CompiledRoute): string {
  return route.directProvider === null
    ? loginUrl(t, authPrefix)
    : loginUrl(t, authPrefix, `/oauth/${route.directProvider}/start`);
}

/** No mode vouched for the request. */
export function unauthenticated(
  route: CompiledRoute,
  t: TargetFacts,
  authPrefix: string,
  accept: string | undefined,
): Decision {
  // One answer for every kind of failure (no token, unknown, revoked, expired, disabled owner): the answer
  // must not tell an attacker which of their guesses came closest.
  const login = loginUrl(t, authPrefix);
  const bearer = route.auth.includes('bearer');
  // Browsers on routes people sign in to are sent to the sign-in page; scripts and `api` routes get a 401
  // they can act on (a redirect to an HTML page would only confuse them).
  if (!route.api && route.signInPage && prefersHtml(accept))
    return { kind: 'sign-in', route, location: signInUrl(t, authPrefix, route), loginUrl: login, bearer };
  return { kind: 'challenge', route, loginUrl: login, bearer };
}

/**
 * A mode vouched for the request: admitted if the principal holds every claim the route requires and, for an
 * upgrade, the page opening it may (`originOk`, see http/origin-check.ts).
 */
export function authorized(
  route: CompiledRoute,
  a: Admitted,
  originOk: boolean,
  asserter: Asserter,
  mfa: { required: boolean; target: TargetFacts; authPrefix: string; accept: string | undefined },
): Decision {
  // API tokens are exempt: a token is issued by a signed-in person and names its own rights; requiring a
  // second factor of a script would only push operators to open routes instead.
  const { principal } = a;
  if (
    mfa.required &&
    principal.method !== 'bearer' &&
    !hasSecondFactor(principal.method, principal.secondFactor)
  )
    return {
      kind: 'second-factor',
      route,
      principal,
      location: loginUrl(mfa.target, mfa.authPrefix, '/mfa'),
      browser: !route.api && prefersHtml(mfa.accept),
    };
  if (!hasAllClaims(a.claims, route.require_claims))
    return { kind: 'forbidden', route, principal: a.principal };
  // A browser sends its cookies with a WebSocket opened by any site: a cookie-authenticated upgrade must come
  // from a page of ours (cross-site WebSocket hijacking). Tokens are never sent by browsers on their own.
  if (a.principal.method !== 'bearer' && !originOk)
    return { kind: 'forbidden', route, principal: a.principal };
  return {
    kind: 'admit',
    route,
    principal: a.principal,
    claims: a.claims,
    assertion: asserter.for(a.principal, route.context, a.claims),
    consumedAuthorization: a.consumedAuthorization,
  };
}

/**
 * What a renderer answers to a kind of decision it has no branch for — none, as long as the type check passes
 * (`d` is `never` then). Refused: a kind added later must never pass by default.
 */
export function unrendered(_d: never): 'forbidden' {
  return 'forbidden';
}
