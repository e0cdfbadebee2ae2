// The one auth decision for every way a request comes in: the gate (proxied requests), WebSocket upgrades, and
// forward-auth's original request all call decide() and only render what it returns. Steps: match a route,
// read the credentials with the route's modes, resolve claims, then core/decision.ts says which outcome follows.
import type { IncomingHttpHeaders } from 'node:http';
import { narrowClaims } from '../core/claims.ts';
import {
  type Admitted,
  authorized,
  type Decision,
  NOT_FOUND,
  NOT_FOUND_AUTH_PATH,
  unauthenticated,
} from '../core/decision.ts';
import { chain, type MaybePromise } from '../core/maybe-promise.ts';
import type { Principal } from '../core/principal.ts';
import { type CompiledRoute, selectRoute } from '../core/routes.ts';
import type { IdentityAssertions } from '../services/assertions.ts';
import type { AuthzFreshness } from '../services/authz-freshness.ts';
import type { ClaimResolver } from '../services/claims.ts';
import type { Credentials, ModeTable } from './modes/index.ts';
import { originAllowed } from './origin-check.ts';
import type { HeroRequestState } from './state.ts';

export type { Admitted, Decision } from '../core/decision.ts';

export interface GateDeps {
  modes: ModeTable;
  assertions: IdentityAssertions;
  claims: ClaimResolver;
  freshness: AuthzFreshness;
}

/** What the decision reads about where a request goes: the normalized target, Host, scheme, and the config. */
export type DecisionFacts = Pick<
  HeroRequestState,
  'snapshot' | 'path' | 'forward' | 'query' | 'host' | 'proto' | 'clientIp'
>;

/** The headers the decision reads: the credentials, Accept (sign-in or 401) and Origin (upgrades). */
export type DecisionHeaders = Credentials & Pick<IncomingHttpHeaders, 'accept' | 'origin'>;

type ModeName = Exclude<CompiledRoute['auth'][number], 'none'>;

/** The first of the route's modes that vouches for the request, tried in order, with its claims; null when none does. */
function firstVouch(
  deps: GateDeps,
  headers: Credentials,
  route: CompiledRoute,
  cookieName: string,
  i: number,
): MaybePromise<Admitted | null> {
  const names = route.auth as readonly ModeName[];
  if (i >= names.length) return null;
  const mode = deps.modes[names[i] as ModeName];
  return chain(
    mode.vouch(headers, route, cookieName),
    (principal: Principal | null): MaybePromise<Admitted | null> =>
      principal === null
        ? firstVouch(deps, headers, route, cookieName, i + 1)
        : chain(deps.claims.claimsFor(principal.user.id, route.context), (held) => ({
            principal,
            claims: narrowClaims(held, principal.claimLimit),
            consumedAuthorization: mode.credential === 'authorization',
          })),
  );
}

/**
 * Freshness check (one store read), auth modes, then claims — every step on every request. Each step answers
 * at once when its cache can, so a cached identity never waits for another tick. Store faults throw or reject.
 */
export function authenticate(
  deps: GateDeps,
  headers: Credentials,
  route: CompiledRoute,
  cookieName: string,
): MaybePromise<Admitted | null> {
  return chain(deps.freshness.refresh(), () => firstVouch(deps, headers, route, cookieName, 0));
}

/**
 * The decision about one request. `upgrade`: it asks to open a WebSocket (the route must allow them, and a
 * cookie must come from a page of ours); `originAnyPort` is for nginx's forward-auth, whose `$host` has no port.
 * Synchronous whenever every answer is cached; store faults throw or reject, for the caller to fail closed.
 */
export function decide(
  deps: GateDeps,
  s: DecisionFacts,
  headers: DecisionHeaders,
  upgrade: boolean,
  originAnyPort = false,
): MaybePromise<Decision> {
  const { table, config, auth } = s.snapshot;
  const prefix = config.server.auth_prefix;
  const route = selectRoute(table, prefix, s.host.hostname, s.path);
  // The gateway's own endpoints are never proxied, whatever the route table says.
  if (route === 'gateway') return NOT_FOUND_AUTH_PATH;
  // No route: there is never an implicit open route. An upgrade only where the route allows tunnels.
  if (route === null || (upgrade && !route.websocket)) return NOT_FOUND;
  if (route.auth[0] === 'none') return { kind: 'pass', route };
  return chain(authenticate(deps, headers, route, auth.session.name), (admitted) =>
    admitted === null
      ? unauthenticated(route, s, prefix, headers.accept)
      : authorized(
          route,
          admitted,
          !upgrade || originAllowed(headers.origin, s, originAnyPort),
          deps.assertions,
          {
            required: route.mfa || config.accounts.second_factor === 'required',
            target: s,
            authPrefix: prefix,
            accept: headers.accept,
          },
        ),
  );
}
