// GET/POST /auth/mfa: the second step of a sign-in (after the password, a mailed link, a reset or a provider)
// and the step-up of a session a route asks more of. Offers the factors the person has, the passkey first; a
// person who must have a factor and has none is taken through setting one up here (factor-enrolment.ts).
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { prefersHtml } from '../../core/accept.ts';
import { hasSecondFactor } from '../../core/amr.ts';
import type { ErrorCode } from '../../errors.ts';
import { ERRORS } from '../../errors.ts';
import type { FactorCheck } from '../../services/second-factor/sign-in.ts';
import { csrfToken } from '../auth/csrf.ts';
import { formField, sendPage } from '../auth/respond.ts';
import { sendProblem } from '../problem.ts';
import { enrolmentRequired, mfaChallenge } from '../views/second-factor-pages.ts';
import type { PagesDeps } from './deps.ts';
import { type EnrolmentDeps, enrolmentPages } from './factor-enrolment.ts';
import {
  finishMfa,
  type MfaSubject,
  type MfaSubjectDeps,
  mfaNext,
  mfaSubject,
  pendingToken,
} from './mfa-subject.ts';
import { passkeyOptions } from './passkey-offer.ts';
import { recentlyProved } from './recent-proof.ts';
import { setMfaPendingCookie } from './sign-in.ts';

export type MfaPageDeps = MfaSubjectDeps &
  EnrolmentDeps &
  Pick<PagesDeps, 'csrfKey' | 'passkeys' | 'recentProofKey' | 'clock' | 'secondFactorMetrics'>;

const rawReturn = (request: FastifyRequest): string | null => {
  const q = (request.query as Record<string, unknown>).return_to;
  const f = formField(request.body, 'return_to');
  return f ?? (typeof q === 'string' ? q : null);
};

export function mfaPages(app: FastifyInstance, deps: MfaPageDeps, prefix: string): void {
  /** Nobody to challenge: sign in first (the held sign-in expired, or there never was one). */
  const signInFirst = (request: FastifyRequest, reply: FastifyReply) => {
    if (prefersHtml(request.headers.accept))
      return reply.code(303).header('location', `${prefix}/login`).send();
    return sendProblem(reply, 'auth_required', { login_url: `${prefix}/login` });
  };

  async function render(
    request: FastifyRequest,
    reply: FastifyReply,
    subject: MfaSubject,
    status: number,
    failure: { code: ErrorCode; field: 'code' | 'recovery'; text?: string } | null,
  ): Promise<FastifyReply> {
    if (failure && !prefersHtml(request.headers.accept)) return sendProblem(reply, failure.code);
    const csrf = csrfToken(request, reply, deps.csrfKey);
    const returnTo = subject.kind === 'pending' ? '' : mfaNext(request, subject, rawReturn(request));
    const has = await deps.secondFactors.available(subject.user);
    const passkey = has.passkey ? await passkeyOptions(request, deps.passkeys, subject.user) : null;
    if (!has.totp && !has.passkey) {
      // Adding the first factor to an older session needs the password again: the account page asks for it.
      if (!(await mayEnrol(request, subject)))
        return reply.code(303).header('location', `${prefix}/account/security`).send();
      const register = await passkeyOptions(request, deps.passkeys, subject.user, 'register');
      return sendPage(
        request,
        reply,
        status,
        { heading: 'Set up a second step', passkeys: register !== null },
        enrolmentRequired({
          prefix,
          csrf,
          totpAction: `${prefix}/mfa/totp`,
          passkey: register === null ? null : { action: `${prefix}/mfa/passkey`, options: register },
          cancel: { action: `${prefix}/mfa/cancel` },
        }),
      );
    }
    const alert = failure
      ? { kind: 'error' as const, text: failure.text ?? ERRORS[failure.code].detail }
      : null;
    return sendPage(
      request,
      reply,
      status,
      { heading: 'Confirm it is you', alert, passkeys: passkey !== null },
      mfaChallenge({
        action: `${prefix}/mfa`,
        csrf,
        returnTo,
        username: subject.user.username,
        after:
          subject.kind === 'step-up'
            ? 'step-up'
            : subject.pending.method === 'password'
              ? 'password'
              : subject.pending.method === 'magic_link'
                ? 'link'
                : 'provider',
        totp: has.totp,
        passkey: passkey === null ? null : { options: passkey },
        recovery: has.recovery,
        invalid: failure?.field ?? null,
        cancel: { action: `${prefix}/mfa/cancel` },
      }),
    );
  }

  /**
   * Only someone with no factor yet may add one here: with a factor, the challenge is the only way on (else the
   * first factor alone could add a second and pass it). A held sign-in proved its first factor just now; a
   * session must have proved it recently.
   */
  async function mayEnrol(request: FastifyRequest, subject: MfaSubject): Promise<boolean> {
    if ((await deps.secondFactors.needed(subject.user)) === 'challenge') return false;
    return (
      subject.kind === 'pending' ||
      // No factor exists here (checked above), so a young session has nothing to race.
      recentlyProved(request, deps.recentProofKey, subject.active, deps.clock.now(), false)
    );
  }

  enrolmentPages(app, deps, {
    base: `${prefix}/mfa`,
    cancelHref: `${prefix}/mfa`,
    async who(request, reply) {
      const subject = await mfaSubject(request, deps);
      if (!subject) {
        signInFirst(request, reply);
        return null;
      }
      // A held sign-in has no session yet; a step-up's is kept until it is replaced, when this is done.
      if (await mayEnrol(request, subject))
        return { user: subject.user, keep: subject.kind === 'step-up' ? subject.active.session.id : null };
      reply.code(303).header('location', `${prefix}/mfa`).send();
      return null;
    },
    async added(request, reply, user, factor) {
      const subject = await mfaSubject(request, deps);
      const next =
        subject && subject.user.id === user.id ? mfaNext(request, subject, rawReturn(request)) : null;
      if (!subject || next === null || !(await finishMfa(request, reply, deps, subject, factor))) {
        signInFirst(request, reply);
        return null;
      }
      return next;
    },
    async refused(request, reply) {
      const subject = await mfaSubject(request, deps);
      if (!subject) return signInFirst(request, reply);
      return render(request, reply, subject, 400, {
        code: 'invalid_second_factor',
        field: 'code',
        text: 'That passkey or key could not be added. Try again, or set up an authenticator app.',
      });
    },
  });

  app.get(`${prefix}/mfa`, async (request, reply) => {
    const subject = await mfaSubject(request, deps);
    if (!subject) return signInFirst(request, reply);
    // A session that already passed a second factor has nothing to add: on to where it was going.
    if (subject.kind === 'step-up') {
      const { session } = subject.active;
      if (hasSecondFactor(session.authMethod, session.secondFactor))
        return reply
          .code(303)
          .header('location', mfaNext(request, subject, rawReturn(request)))
          .send();
    }
    return render(request, reply, subject, 200, null);
  });

  app.post(`${prefix}/mfa`, async (request, reply) => {
    const subject = await mfaSubject(request, deps);
    if (!subject) return signInFirst(request, reply);
    const { user } = subject;
    const ip = request.hero.clientIp;
    const code = formField(request.body, 'code');
    const recovery = formField(request.body, 'recovery_code');
    const credential = formField(request.body, 'credential');
    const field = recovery !== null ? ('recovery' as const) : ('code' as const);
    const offered = credential ? 'passkey' : field === 'recovery' ? 'recovery_code' : 'totp';
    let check: FactorCheck;
    if (credential) check = await deps.secondFactors.passkey(user, credential, ip);
    else if (recovery !== null) check = await deps.secondFactors.recoveryCode(user, recovery, ip);
    else check = await deps.secondFactors.code(user, code ?? '', ip);

    deps.secondFactorMetrics.challenge(offered, check.kind);
    if (check.kind === 'throttled') {
      const seconds = Math.ceil(check.retryAfterMs / 1000);
      deps.audit.record({ action: 'second_factor.throttled', actor: user.username, ip });
      reply.header('retry-after', String(seconds));
      return render(request, reply, subject, 429, {
        code: 'too_many_requests',
        field,
        text: `Too many attempts. Try again in ${seconds} seconds.`,
      });
    }
    if (check.kind === 'failed') {
      deps.audit.record({
        action: 'second_factor.failure',
        actor: user.username,
        ip,
        detail: { with: offered },
      });
      const text = credential
        ? 'That passkey or key was not accepted. Try again, or use another way.'
        : field === 'recovery'
          ? 'That recovery code is wrong or was used before.'
          : 'That code is wrong or was used before. Wait for the next one and try again.';
      return render(request, reply, subject, 401, { code: 'invalid_second_factor', field, text });
    }
    if (check.factor === 'recovery_code')
      deps.audit.record({ action: 'recovery_code.use', actor: user.username, ip });
    const next = mfaNext(request, subject, rawReturn(request));
    if (!(await finishMfa(request, reply, deps, subject, check.factor))) return signInFirst(request, reply);
    return reply.code(303).header('location', next).send();
  });

  // A held sign-in is dropped (nothing was signed in); a step-up leaves the session as it was.
  app.post(`${prefix}/mfa/cancel`, async (request, reply) => {
    const token = pendingToken(request);
    if (token !== null) {
      await deps.secondFactors.drop(token);
      setMfaPendingCookie(reply, '', 0);
      return reply.code(303).header('location', `${prefix}/login`).send();
    }
    return reply.code(303).header('location', `${prefix}/account`).send();
  });
}
