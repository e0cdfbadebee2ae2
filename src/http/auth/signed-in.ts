// Pages only a signed-in person may see: their session, or an answer that sends them to sign in first.
import type { FastifyReply, FastifyRequest } from 'fastify';
import { prefersHtml } from '../../core/accept.ts';
import type { AuthzFreshness } from '../../services/authz-freshness.ts';
import type { ActiveSession, SessionService } from '../../services/sessions.ts';
import { sendProblem } from '../problem.ts';
import { requestOrigin } from './csrf.ts';
import { currentSession } from './session-cookie.ts';

/** The signed-in session, or null after answering "sign in first" (a redirect for browsers, 401 for scripts). */
export async function signedInOrAnswered(
  request: FastifyRequest,
  reply: FastifyReply,
  deps: { sessions: SessionService; freshness: AuthzFreshness },
  prefix: string,
): Promise<ActiveSession | null> {
  const active = await currentSession(request, deps.sessions, deps.freshness);
  if (active) return active;
  const login = `${requestOrigin(request.hero)}${prefix}/login?return_to=${encodeURIComponent(`${prefix}/account`)}`;
  if (prefersHtml(request.headers.accept)) reply.code(303).header('location', login).send();
  else sendProblem(reply, 'auth_required', { login_url: login });
  return null;
}
