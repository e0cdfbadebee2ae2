// The pages mailed links open: /auth/magic, /auth/reset, /auth/invite (and /auth/verify, in verify-address.ts).
// A GET (or HEAD) only shows a page — mail scanners prefetch links — and the POST from that page uses the link up.
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { prefersHtml } from '../../core/accept.ts';
import { html } from '../../core/html.ts';
import type { ErrorCode } from '../../errors.ts';
import { MAX_PASSWORD_LENGTH } from '../../services/password-policy.ts';
import { csrfToken } from '../auth/csrf.ts';
import { formField, sendFailure, sendPage } from '../auth/respond.ts';
import { returnTarget } from '../auth/return-target.ts';
import { sendProblem } from '../problem.ts';
import { confirmLink, newPasswordForm } from '../views/mail-pages.ts';
import type { PagesDeps } from './deps.ts';
import { newPasswordStep } from './new-password.ts';
import { type SignInDeps, signIn } from './sign-in.ts';
import { auditTakeover, type TakeoverAuditDeps } from './takeover-audit.ts';

/** What this module uses of the pages' dependencies. */
export type MailLinkPageDeps = Pick<PagesDeps, 'audit' | 'csrfKey' | 'emailFlows'> &
  SignInDeps &
  TakeoverAuditDeps;

const queryToken = (request: FastifyRequest) => (request.query as Record<string, unknown>).token;

export function mailLinkPages(app: FastifyInstance, deps: MailLinkPageDeps, prefix: string): void {
  const gone = (request: FastifyRequest, reply: FastifyReply) =>
    sendFailure(request, reply, 'link_invalid', {
      heading: 'Link not valid',
      text: 'This link was already used, has expired, or was replaced by a newer one. Ask for a new one.',
      link: { href: `${prefix}/login`, label: 'Back to sign-in' },
    });

  app.get(`${prefix}/magic`, async (request, reply) => {
    const token = queryToken(request);
    if (!request.hero.snapshot.config.accounts.magic_link) return gone(request, reply);
    const link = await deps.emailFlows.linkUsable(token, 'magic_login');
    if (!link) return gone(request, reply);
    return sendPage(
      request,
      reply,
      200,
      { heading: 'Sign in with your email link' },
      confirmLink({
        action: `${prefix}/magic`,
        csrf: csrfToken(request, reply, deps.csrfKey),
        token: token as string,
        text: html`Sign in as <strong>${link.email}</strong>?`,
        button: 'Sign in',
        back: { href: `${prefix}/login`, label: 'Not you? Back to sign-in' },
      }),
    );
  });
  app.post(`${prefix}/magic`, async (request, reply) => {
    const { accounts } = request.hero.snapshot.config;
    // Links issued before an operator turned these off stop working too.
    const done = accounts.magic_link
      ? await deps.emailFlows.confirmMagicLink(
          formField(request.body, 'token'),
          accounts.registration === 'open',
        )
      : null;
    if (!done) return gone(request, reply);
    if (done.reset) auditTakeover(request, deps, done.user, done.reset, 'magic_link');
    // Taken over: the account has no password now; offer to choose one before going on.
    const after = done.reset
      ? newPasswordStep(prefix, done.returnTo)
      : returnTarget(request.hero, done.returnTo || null);
    const next = await signIn(request, reply, deps, done.user, 'magic_link', after);
    return reply.code(303).header('location', next).send();
  });

  for (const purpose of ['reset_password', 'invite'] as const) {
    const path = purpose === 'reset_password' ? '/reset' : '/invite';
    const texts =
      purpose === 'reset_password'
        ? { heading: 'Choose a new password', intro: 'for', button: 'Set the new password' }
        : { heading: 'Welcome', intro: 'Choose a password for', button: 'Set my password and sign in' };
    const form = async (
      request: FastifyRequest,
      reply: FastifyReply,
      status: number,
      token: string,
      error: string | null,
    ) => {
      const owner = await deps.emailFlows.linkOwner(token, purpose);
      if (!owner) return gone(request, reply);
      return sendPage(
        request,
        reply,
        status,
        { heading: texts.heading, alert: error ? { kind: 'error', text: error } : null },
        newPasswordForm({
          action: `${prefix}${path}`,
          csrf: csrfToken(request, reply, deps.csrfKey),
          token,
          username: owner.username,
          intro:
            purpose === 'reset_password'
              ? `A new password for ${owner.username}.`
              : `${texts.intro} ${owner.username}.`,
          button: texts.button,
          minLength: request.hero.snapshot.config.accounts.password_min_length,
          invalid: error !== null,
        }),
      );
    };
    const refuse = (
      request: FastifyRequest,
      reply: FastifyReply,
      token: string,
      code: ErrorCode,
      text: string,
    ) =>
      prefersHtml(request.headers.accept)
        ? form(request, reply, 400, token, text)
        : sendProblem(reply, code, { problem: text });

    app.get(`${prefix}${path}`, async (request, reply) => {
      const token = queryToken(request);
      return typeof token === 'string' ? form(request, reply, 200, token, null) : gone(request, reply);
    });
    app.post(`${prefix}${path}`, async (request, reply) => {
      const token = formField(request.body, 'token') ?? '';
      const password = formField(request.body, 'password') ?? '';
      if ([...password].length > MAX_PASSWORD_LENGTH)
        return refuse(
          request,
          reply,
          token,
          'password_too_long',
          'Passwords are at most 1024 characters long.',
        );
      if (password !== (formField(request.body, 'confirm_password') ?? ''))
        return refuse(request, reply, token, 'invalid_input', 'The two passwords differ.');
      const minLength = request.hero.snapshot.config.accounts.password_min_length;
      const result = await deps.emailFlows.setPasswordByLink(token, purpose, password, minLength);
      if (result.kind === 'gone') return gone(request, reply);
      if (result.kind === 'invalid') return refuse(request, reply, token, 'invalid_input', result.problem);
      const { user, reset } = result.value;
      if (reset) auditTakeover(request, deps, user, reset, purpose);
      deps.audit.record({
        action: purpose === 'reset_password' ? 'password.reset' : 'invite.accept',
        actor: user.username,
        target: user.username,
        ip: request.hero.clientIp,
      });
      if (purpose === 'invite') {
        const next = await signIn(request, reply, deps, user, 'password', `${prefix}/account`);
        return reply.code(303).header('location', next).send();
      }
      // Every session ended with the old password; sign in again with the new one.
      return reply.code(303).header('location', `${prefix}/login?done=reset`).send();
    });
  }
}
