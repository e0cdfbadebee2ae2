// The `local` mode: a server-side session from the gateway's own sign-in pages, named by the session cookie.
import { readCookie } from '../../core/cookies.ts';
import { chain } from '../../core/maybe-promise.ts';
import type { Principal } from '../../core/principal.ts';
import type { CompiledRoute } from '../../core/routes.ts';
import { type SessionService, sessionPrincipal } from '../../services/sessions.ts';
import type { Credentials, Mode } from './index.ts';

export function localMode(sessions: SessionService): Mode {
  return {
    credential: 'session-cookie',
    vouch(headers: Credentials, _route: CompiledRoute, cookieName: string) {
      // Absent, empty or duplicated cookies are "not signed in", never an error.
      const token = readCookie(headers.cookie, cookieName);
      if (token === null) return null;
      return chain(sessions.resolve(token), (active): Principal | null => active && sessionPrincipal(active));
    },
  };
}
