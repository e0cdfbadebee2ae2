// The `oauth` mode: a gateway session started through an identity provider this route accepts (its `oidc`
// list, or every provider). A session from a password or a mailed link, or from another provider, is not one.
import { readCookie } from '../../core/cookies.ts';
import { chain } from '../../core/maybe-promise.ts';
import type { Principal } from '../../core/principal.ts';
import type { CompiledRoute } from '../../core/routes.ts';
import { type SessionService, sessionPrincipal } from '../../services/sessions.ts';
import type { Credentials, Mode } from './index.ts';

export function oauthMode(sessions: SessionService): Mode {
  return {
    credential: 'session-cookie',
    vouch(headers: Credentials, route: CompiledRoute, cookieName: string) {
      const token = readCookie(headers.cookie, cookieName);
      if (token === null) return null;
      return chain(sessions.resolve(token), (active): Principal | null => {
        if (!active) return null;
        const method = active.session.authMethod;
        // Only the route's providers' sessions, whatever else the route allows: `local` is its own mode.
        if (!route.providerMethods.has(method)) return null;
        return sessionPrincipal(active);
      });
    },
  };
}
