// GET /auth/logout asks; POST /auth/logout ends the session server-side. A GET never signs anyone out, so a
// link or an image on another site cannot do it either.
import type { FastifyInstance } from 'fastify';
import { csrfToken, requestOrigin } from '../auth/csrf.ts';
import { sendPage } from '../auth/respond.ts';
import { clearSessionCookie, currentSession } from '../auth/session-cookie.ts';
import { logoutConfirm, signedOut } from '../views/pages.ts';
import type { PagesDeps } from './deps.ts';

export function logoutPages(app: FastifyInstance, deps: PagesDeps, prefix: string): void {
  app.get(`${prefix}/logout`, async (request, reply) => {
    const active = await currentSession(request, deps.sessions, deps.freshness);
    return sendPage(
      request,
      reply,
      200,
      { heading: 'Sign out' },
      logoutConfirm({
        action: `${prefix}/logout`,
        csrf: csrfToken(request, reply, deps.csrfKey),
        username: active?.user.username ?? null,
        prefix,
      }),
    );
  });

  app.post(`${prefix}/logout`, async (request, reply) => {
    const active = await currentSession(request, deps.sessions, deps.freshness);
    if (active) {
      await deps.sessions.end(active.session.id);
      deps.audit.record({
        action: 'logout',
        actor: active.user.username,
        target: active.session.id,
        ip: request.hero.clientIp,
      });
    }
    clearSessionCookie(reply);
    return sendPage(
      request,
      reply,
      200,
      { heading: 'Signed out', alert: { kind: 'ok', text: 'You are signed out.' } },
      signedOut({ loginHref: `${requestOrigin(request.hero)}${prefix}/login` }),
    );
  });
}
