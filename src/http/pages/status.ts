// GET /auth/status: who the browser is signed in as, for UIs. Identity fields only when authenticated.
import type { FastifyInstance } from 'fastify';
import { amrOf, authMethodLabel, hasSecondFactor } from '../../core/amr.ts';
import { LABEL } from '../../core/names.ts';
import { currentSession } from '../auth/session-cookie.ts';
import type { PagesDeps } from './deps.ts';

/** What this module uses of the pages' dependencies. */
export type StatusPageDeps = Pick<PagesDeps, 'claims' | 'freshness' | 'sessions'>;

export function statusPage(app: FastifyInstance, deps: StatusPageDeps, prefix: string): void {
  app.get(`${prefix}/status`, async (request, reply) => {
    reply.type('application/json; charset=utf-8');
    const active = await currentSession(request, deps.sessions, deps.freshness);
    if (!active) return { authenticated: false };
    const { user, session } = active;
    // Claims as an app in `context` would see them; without one, the globally granted claims.
    const asked = (request.query as Record<string, unknown>).context;
    const context = typeof asked === 'string' && LABEL.test(asked) ? asked : '';
    const claims = await deps.claims.claimsFor(user.id, context);
    return {
      authenticated: true,
      user: {
        id: user.id,
        username: user.username,
        email: user.email,
        email_verified: user.emailVerifiedAt !== null,
      },
      claims,
      auth_method: authMethodLabel(session.authMethod, session.secondFactor),
      // Whether this session passed a second factor (a route with `mfa = true` would admit it), and how (RFC 8176).
      second_factor: hasSecondFactor(session.authMethod, session.secondFactor),
      amr: amrOf(session.authMethod, session.secondFactor),
      expires_at: new Date(Math.min(session.idleExpiresAt, session.absoluteExpiresAt)).toISOString(),
    };
  });
}
