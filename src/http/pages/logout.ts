// GET /auth/logout asks; POST /auth/logout ends the session server-side. A GET never signs anyone out, so a
// link or an image on another site cannot do it either.
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { csrfToken, requestOrigin } from '../auth/csrf.ts';
import { sendPage } from '../auth/respond.ts';
import { clearSessionCookie, currentSession } from '../auth/session-cookie.ts';
import { logoutConfirm, signedOut } from '../views/pages.ts';
import type { PagesDeps } from './deps.ts';

/** What this module uses of the pages' dependencies. */
export type LogoutPageDeps = Pick<PagesDeps, 'audit' | 'csrfKey' | 'freshness' | 'oidc' | 'sessions'>;

export function logoutPages(app: FastifyInstance, deps: LogoutPageDeps, prefix: string): void {
  /** Where the provider sends the browser once it has ended its own session too. */
  const afterProviderLogout = (request: FastifyRequest) =>
    `${requestOrigin(request.hero)}${prefix}/login?done=logout`;

  app.get(`${prefix}/logout`, async (request, reply) => {
    const active = await currentSession(request, deps.sessions, deps.freshness);
    const providerLogout = active
      ? await deps.oidc.login.endSessionUrl(active.session.id, afterProviderLogout(request))
      : null;
    if (providerLogout) {
      // The form's answer redirects to the provider, and browsers hold redirects after a form post to the
      // page's form-action: allow that one origin on this page only.
      const csp = request.hero.snapshot.auth.csp;
      reply.header(
        'content-security-policy',
        csp.replace("form-action 'self'", `form-action 'self' ${new URL(providerLogout).origin}`),
      );
    }
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
    // A session from an identity provider ends there too (RP-initiated logout), or the next sign-in through
    // it would silently let the same person back in.
    const providerLogout = active
      ? await deps.oidc.login.endSessionUrl(active.session.id, afterProviderLogout(request))
      : null;
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
    if (providerLogout) return reply.code(303).header('location', providerLogout).send();
    return sendPage(
      request,
      reply,
      200,
      { heading: 'Signed out', alert: { kind: 'ok', text: 'You are signed out.' } },
      signedOut({ loginHref: `${requestOrigin(request.hero)}${prefix}/login` }),
    );
  });
}
