// Changing how one signs in needs a proof from the last few minutes: the password or a current factor typed
// again, or a sign-in that just happened. So a session cookie stolen or a screen left unlocked cannot add an
// attacker's authenticator or remove the owner's. The proof is a signed (session, time) cookie: it is void in
// any other session, and after RECENT_MS. A young session counts only if it passed every factor the account
// asks for now: a one-factor sign-in that raced the owner's first enrolment must not then swap the factor.
import type { FastifyReply, FastifyRequest } from 'fastify';
import { readCookie } from '../../core/cookies.ts';
import type { SigningKey } from '../../crypto/keys.ts';
import type { ActiveSession } from '../../services/sessions.ts';
import { cookieAttributes } from '../auth/settings.ts';

export const RECENT_MS = 5 * 60_000;

export function recentlyProved(
  request: FastifyRequest,
  key: SigningKey,
  active: ActiveSession,
  now: number,
  short: boolean,
): boolean {
  if (!short && now - active.session.createdAt < RECENT_MS) return true;
  const value = readCookie(request.headers.cookie, request.hero.snapshot.auth.recentProof.name);
  if (value === null) return false;
  const dot = value.indexOf('.');
  const at = Number.parseInt(value.slice(0, dot), 36);
  if (dot < 1 || !Number.isSafeInteger(at) || now - at >= RECENT_MS || at > now) return false;
  return key.verify(`${active.session.id}|${at}`, value.slice(dot + 1));
}

export function setRecentProof(
  reply: FastifyReply,
  key: SigningKey,
  active: ActiveSession,
  now: number,
): void {
  const spec = reply.request.hero.snapshot.auth.recentProof;
  reply.setCookie(
    spec.name,
    `${now.toString(36)}.${key.sign(`${active.session.id}|${now}`)}`,
    cookieAttributes(spec, { sameSite: 'strict', maxAge: RECENT_MS / 1000 }),
  );
}
