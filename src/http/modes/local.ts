// The `local` mode: a server-side session from the gateway's own sign-in pages, named by the session cookie.
import type { FastifyRequest } from 'fastify';
import { readCookie } from '../../core/cookies.ts';
import { chain } from '../../core/maybe-promise.ts';
import type { AuthMethod, Principal } from '../../core/principal.ts';
import type { SessionService } from '../../services/sessions.ts';
import type { ModeCheck } from './index.ts';

export function localMode(sessions: SessionService): ModeCheck {
  return (request: FastifyRequest) => {
    // Absent, empty or duplicated cookies are "not signed in", never an error.
    const token = readCookie(request.headers.cookie, request.hero.snapshot.auth.session.name);
    if (token === null) return null;
    return chain(
      sessions.resolve(token),
      (active): Principal | null =>
        active && { user: active.user, method: active.session.authMethod as AuthMethod, claimLimit: null },
    );
  };
}
