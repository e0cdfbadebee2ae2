// Who is at the second-factor pages, and finishing there. Two kinds of visitor: a sign-in held for its second
// factor (the `mfa_pending` cookie; no session exists yet), or a signed-in session stepping up because a route
// or the operator asks for a second factor it did not pass. The held sign-in comes first: it is the newer.
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { SecondFactorMethod } from '../../core/amr.ts';
import { readCookie } from '../../core/cookies.ts';
import type { AuthMethod } from '../../core/principal.ts';
import type { User } from '../../core/records.ts';
import type { PendingSignIn } from '../../services/second-factor/sign-in.ts';
import type { ActiveSession } from '../../services/sessions.ts';
import { returnTarget } from '../auth/return-target.ts';
import { currentSession } from '../auth/session-cookie.ts';
import type { PagesDeps } from './deps.ts';
import { type SignInDeps, setMfaPendingCookie, startSession } from './sign-in.ts';

export type MfaSubject =
  | { kind: 'pending'; user: User; token: string; pending: PendingSignIn }
  | { kind: 'step-up'; user: User; active: ActiveSession };

export type MfaSubjectDeps = SignInDeps & Pick<PagesDeps, 'secondFactors'>;

export const pendingToken = (request: FastifyRequest): string | null =>
  readCookie(request.headers.cookie, request.hero.snapshot.auth.mfaPending.name);

export async function mfaSubject(request: FastifyRequest, deps: MfaSubjectDeps): Promise<MfaSubject | null> {
  const token = pendingToken(request);
  const pending = await deps.secondFactors.pending(token);
  if (pending && token) return { kind: 'pending', user: pending.user, token, pending };
  const active = await currentSession(request, deps.sessions, deps.freshness);
  return active ? { kind: 'step-up', user: active.user, active } : null;
}

/** Where the visitor goes once done: the held sign-in's target, or the step-up's `return_to`. */
export function mfaNext(request: FastifyRequest, subject: MfaSubject, raw: string | null): string {
  return subject.kind === 'pending' ? subject.pending.returnTo : returnTarget(request.hero, raw);
}

/**
 * The second factor passed: the held sign-in becomes a session (used up first, so two tabs cannot both turn
 * it into one), or the stepping-up session is replaced by a new one that records the factor — a new token,
 * so a copy of the old cookie never gains what only this browser proved. False when the held sign-in is gone.
 */
export async function finishMfa(
  request: FastifyRequest,
  reply: FastifyReply,
  deps: MfaSubjectDeps,
  subject: MfaSubject,
  factor: SecondFactorMethod,
): Promise<boolean> {
  if (subject.kind === 'pending') {
    const held = await deps.secondFactors.release(subject.token);
    setMfaPendingCookie(reply, '', 0);
    if (!held || held.user.id !== subject.user.id) return false;
    await startSession(request, reply, deps, held.user, held.method, {
      oidc: held.oidc,
      secondFactor: factor,
    });
    return true;
  }
  const { session } = subject.active;
  const oidc = await deps.sessions.oidcOf(session.id);
  await startSession(request, reply, deps, subject.user, session.authMethod as AuthMethod, {
    oidc,
    secondFactor: factor,
    endsBy: session.absoluteExpiresAt,
  });
  deps.audit.record({
    action: 'login.step_up',
    actor: subject.user.username,
    ip: request.hero.clientIp,
    detail: { replaced: session.id, second_factor: factor },
  });
  return true;
}
