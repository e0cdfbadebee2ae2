// GET /auth/account/security and its forms: the person's second factors (add, rename, remove) and recovery
// codes. Every change needs a recent proof (pages/recent-proof.ts): the password, or a current factor.
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { hasSecondFactor } from '../../core/amr.ts';
import type { ActiveSession } from '../../services/sessions.ts';
import { csrfToken } from '../auth/csrf.ts';
import { formField, sendPage } from '../auth/respond.ts';
import { signedInOrAnswered } from '../auth/signed-in.ts';
import type { Alert } from '../views/layout.ts';
import { recoveryCodesShown, securityOverview } from '../views/second-factor-pages.ts';
import type { PagesDeps } from './deps.ts';
import { type EnrolmentDeps, enrolmentPages } from './factor-enrolment.ts';
import { finishMfa, type MfaSubjectDeps } from './mfa-subject.ts';
import { passkeyOptions } from './passkey-offer.ts';
import { recentlyProved, setRecentProof } from './recent-proof.ts';

export type AccountSecurityDeps = EnrolmentDeps &
  MfaSubjectDeps &
  Pick<
    PagesDeps,
    | 'sessions'
    | 'freshness'
    | 'clock'
    | 'recentProofKey'
    | 'secondFactors'
    | 'passkeys'
    | 'accounts'
    | 'login'
  >;

const DONE: Record<string, string> = {
  added: 'The new factor is on. You will be asked for it when you sign in.',
  removed: 'The factor was removed.',
  renamed: 'The name was changed.',
  confirmed: 'Thank you. You can make changes for the next few minutes.',
};

export function accountSecurityPages(app: FastifyInstance, deps: AccountSecurityDeps, prefix: string): void {
  const base = `${prefix}/account/security`;
  const signedIn = (request: FastifyRequest, reply: FastifyReply) =>
    signedInOrAnswered(request, reply, deps, prefix);

  async function render(
    request: FastifyRequest,
    reply: FastifyReply,
    active: ActiveSession,
    status: number,
    alert: Alert | null,
    invalid = false,
  ): Promise<FastifyReply> {
    const { user } = active;
    const factors = await deps.secondFactors.list(user);
    const short = await deps.secondFactors.fallsShort(user, active.session);
    const unlocked = recentlyProved(request, deps.recentProofKey, active, deps.clock.now(), short);
    const passkey = unlocked ? await passkeyOptions(request, deps.passkeys, user, 'register') : null;
    const hasPassword = (await deps.accounts.overviews.of(user)).hasPassword;
    return sendPage(
      request,
      reply,
      status,
      { heading: 'Sign-in security', alert, wide: true, passkeys: passkey !== null },
      securityOverview({
        prefix,
        csrf: csrfToken(request, reply, deps.csrfKey),
        username: user.username,
        factors: factors.map((f) => ({
          id: f.id,
          kind: f.kind,
          name: f.name,
          createdAt: f.createdAt,
          lastUsedAt: f.lastUsedAt,
        })),
        recoveryLeft: factors.length ? await deps.secondFactors.recoveryLeft(user) : 0,
        unlocked,
        // The password proves only the first factor: a session that has not passed the second must show it.
        proof: hasPassword && !short ? 'password' : 'code',
        required: await deps.secondFactors.required(user),
        passkey: passkey === null ? null : { options: passkey },
        invalid,
      }),
    );
  }

  /** The signed-in session, and only with a recent proof; otherwise the page again, asking for one. */
  async function unlockedSession(
    request: FastifyRequest,
    reply: FastifyReply,
  ): Promise<ActiveSession | null> {
    const active = await signedIn(request, reply);
    if (!active) return null;
    const short = await deps.secondFactors.fallsShort(active.user, active.session);
    if (recentlyProved(request, deps.recentProofKey, active, deps.clock.now(), short)) return active;
    await render(request, reply, active, 403, {
      kind: 'error',
      text: 'Confirm it is you first: changes to how you sign in need your password or a code from the last few minutes.',
    });
    return null;
  }

  const back = (reply: FastifyReply, done: keyof typeof DONE) =>
    reply.code(303).header('location', `${base}?done=${done}`).send();

  app.get(base, async (request, reply) => {
    const active = await signedIn(request, reply);
    if (!active) return reply;
    const done = (request.query as Record<string, unknown>).done;
    // Own keys only: "__proto__" or "constructor" must not become the page's notice.
    const text = typeof done === 'string' && Object.hasOwn(DONE, done) ? DONE[done] : undefined;
    return render(request, reply, active, 200, text ? { kind: 'ok', text } : null);
  });

  app.post(`${base}/confirm`, async (request, reply) => {
    const active = await signedIn(request, reply);
    if (!active) return reply;
    const ip = request.hero.clientIp;
    const short = await deps.secondFactors.fallsShort(active.user, active.session);
    const password = short ? null : formField(request.body, 'password');
    const code = formField(request.body, 'code');
    // The password, or (for accounts without one) a current code: each throttled as at sign-in.
    const ok =
      password !== null
        ? ['ok', 'unverified'].includes(
            (
              await deps.login.attempt({
                identifier: active.user.username,
                password,
                ip,
                knownDevice: () => true,
              })
            ).kind,
          )
        : (await deps.secondFactors.code(active.user, code ?? '', ip)).kind === 'ok';
    if (!ok)
      return render(
        request,
        reply,
        active,
        401,
        { kind: 'error', text: 'That was not right. Try again.' },
        true,
      );
    setRecentProof(reply, deps.recentProofKey, active, deps.clock.now());
    return back(reply, 'confirmed');
  });

  app.post(`${base}/rename`, async (request, reply) => {
    const active = await unlockedSession(request, reply);
    if (!active) return reply;
    const id = formField(request.body, 'factor_id') ?? '';
    await deps.ownFactors.rename(
      active.user,
      id,
      formField(request.body, 'name') ?? '',
      request.hero.clientIp,
    );
    return back(reply, 'renamed');
  });

  app.post(`${base}/remove`, async (request, reply) => {
    const active = await unlockedSession(request, reply);
    if (!active) return reply;
    const id = formField(request.body, 'factor_id') ?? '';
    const result = await deps.ownFactors.remove(active.user, id, request.hero.clientIp);
    if (result === 'required')
      return render(request, reply, active, 409, {
        kind: 'error',
        text: 'This is your last second factor, and this gateway requires one. Add another before removing it.',
      });
    return back(reply, 'removed');
  });

  app.post(`${base}/recovery`, async (request, reply) => {
    const active = await unlockedSession(request, reply);
    if (!active) return reply;
    const codes = await deps.ownFactors.regenerateRecovery(active.user, request.hero.clientIp);
    return sendPage(
      request,
      reply,
      200,
      { heading: 'Your recovery codes' },
      recoveryCodesShown({ codes, next: { href: base, label: 'I saved them, continue' } }),
    );
  });

  enrolmentPages(app, deps, {
    base,
    cancelHref: base,
    async who(request, reply) {
      const active = await unlockedSession(request, reply);
      return active && { user: active.user, keep: active.session.id };
    },
    async added(request, reply, user, factor) {
      // The session that added the factor has just shown it works (a right code, a key's signature): it steps
      // up to a new session that records it (a new token; the old session ends), so this browser goes on as a
      // two-factor session while a copy of the old cookie gains nothing.
      const active = await signedIn(request, reply);
      if (!active) return null;
      const { session } = active;
      if (active.user.id === user.id && !hasSecondFactor(session.authMethod, session.secondFactor))
        await finishMfa(request, reply, deps, { kind: 'step-up', user, active }, factor);
      return `${base}?done=added`;
    },
    async refused(request, reply) {
      const active = await signedIn(request, reply);
      if (!active) return reply;
      return render(request, reply, active, 400, {
        kind: 'error',
        text: 'That passkey or key could not be added. It may be on this account already.',
      });
    },
  });
}
