// Signing a browser in, the same way for every method: a brand-new session (whatever cookie the browser held
// before, possibly planted, is ended and replaced), the session and device cookies, and an audit line.
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { AuthMethod } from '../../core/principal.ts';
import type { SessionOidc, User } from '../../core/records.ts';
import { setDeviceCookie } from '../auth/device-cookie.ts';
import { currentSession, setSessionCookie } from '../auth/session-cookie.ts';
import type { PagesDeps } from './deps.ts';

/** What signing a browser in uses. */
export type SignInDeps = Pick<
  PagesDeps,
  'sessions' | 'freshness' | 'clock' | 'deviceKey' | 'signInMetric' | 'audit'
>;

export async function signIn(
  request: FastifyRequest,
  reply: FastifyReply,
  deps: SignInDeps,
  user: User,
  method: AuthMethod,
  oidc?: SessionOidc,
): Promise<void> {
  const s = request.hero;
  const previous = await currentSession(request, deps.sessions, deps.freshness);
  if (previous) await deps.sessions.end(previous.session.id);
  const { token, session } = await deps.sessions.start(user, method, {
    ip: s.clientIp,
    userAgent: request.headers['user-agent'] ?? null,
    ...(oidc ? { oidc } : {}),
  });
  const now = deps.clock.now();
  setSessionCookie(reply, token, session.absoluteExpiresAt - now);
  setDeviceCookie(reply, deps.deviceKey, user, now);
  deps.signInMetric(method, 'ok');
  deps.audit.record({
    action: 'login.success',
    actor: user.username,
    ip: s.clientIp,
    detail: { session: session.id, method },
  });
}
