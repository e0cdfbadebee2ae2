// The session cookie: reading it on requests, setting it at sign-in, clearing it at sign-out.
import type { FastifyReply, FastifyRequest } from 'fastify';
import { readCookie } from '../../core/cookies.ts';
import { chain, type MaybePromise } from '../../core/maybe-promise.ts';
import type { AuthzFreshness } from '../../services/authz-freshness.ts';
import type { ActiveSession, SessionService } from '../../services/sessions.ts';
import { cookieAttributes } from './settings.ts';

/** The session behind the request's cookie, after the freshness check; null when not signed in. */
export function currentSession(
  request: FastifyRequest,
  sessions: SessionService,
  freshness: AuthzFreshness,
): MaybePromise<ActiveSession | null> {
  const token = readCookie(request.headers.cookie, request.hero.snapshot.auth.session.name);
  if (token === null) return null;
  return chain(freshness.refresh(), () => sessions.resolve(token));
}

export function setSessionCookie(reply: FastifyReply, token: string, lifetimeMs: number): void {
  const spec = reply.request.hero.snapshot.auth.session;
  // Lax, not Strict: following a link to an app from another site (a chat, a mail) must arrive signed in.
  reply.setCookie(
    spec.name,
    token,
    cookieAttributes(spec, { sameSite: 'lax', maxAge: Math.max(1, Math.floor(lifetimeMs / 1000)) }),
  );
}

export function clearSessionCookie(reply: FastifyReply): void {
  const spec = reply.request.hero.snapshot.auth.session;
  reply.setCookie(spec.name, '', cookieAttributes(spec, { sameSite: 'lax', maxAge: 0 }));
}
