// Re-deciding an open tunnel: the gate's own authenticate() and claim check, run again on the credentials that
// opened it, as if its upgrade arrived now.
import type { IncomingHttpHeaders } from 'node:http';
import { hasAllClaims } from '../core/claims.ts';
import { chain, type MaybePromise } from '../core/maybe-promise.ts';
import type { CompiledRoute } from '../core/routes.ts';
import { type Admitted, authenticate, type GateDeps } from './decide.ts';
import type { HeroRequestState } from './state.ts';

/**
 * Whether the tunnel's credentials still admit it: the session or token still live (authenticate() first reads
 * the store's authz version, which moves on session and token revocation and on user disable and delete in any
 * process, so no cached identity outlives them), still the same user by the same method, and still holding
 * every claim the route requires. Store faults throw or reject, for the caller to decide.
 *
 * Sessions: each check is a use of the session, like a request: it slides the idle expiry (written at most
 * once a minute) but never past the absolute one. An open tunnel is a page still in use, so the idle timeout
 * alone does not end it; absolute_timeout, logout, revocation and disabling do.
 *
 * The route is the one the tunnel opened on: a config reload applies to the upgrades that come after it.
 */
export function tunnelAdmission(
  deps: GateDeps,
  headers: IncomingHttpHeaders,
  s: HeroRequestState,
  route: CompiledRoute,
  admitted: Admitted,
): () => MaybePromise<boolean> {
  // Only what the auth modes read is kept for the tunnel's lifetime: the cookie header and Authorization.
  const kept = { cookie: headers.cookie, authorization: headers.authorization };
  const { user, method } = admitted.principal;
  const cookieName = s.snapshot.auth.session.name;
  return () =>
    chain(
      authenticate(deps, kept, route, cookieName),
      (now) =>
        now !== null &&
        // The same credential, not just any: a tunnel opened with a session that has ended does not live on
        // because the same upgrade also carried a token, or the token's owner's cookie.
        now.principal.user.id === user.id &&
        now.principal.method === method &&
        hasAllClaims(now.claims, route.require_claims),
    );
}
