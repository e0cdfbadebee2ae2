// GET/POST /auth/account/new-password: the step after taking an account over by a mailed link, where the
// account has no password any more. Also open to any passwordless account for a few minutes after a mailed
// link signed it in (see services/first-password.ts).
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { ERRORS, type ErrorCode } from '../../errors.ts';
import { MAX_PASSWORD_LENGTH } from '../../services/password-policy.ts';
import type { ActiveSession } from '../../services/sessions.ts';
import { csrfToken } from '../auth/csrf.ts';
import { formField, sendFailure, sendForm } from '../auth/respond.ts';
import { returnTarget } from '../auth/return-target.ts';
import { signedInOrAnswered } from '../auth/signed-in.ts';
import { firstPasswordForm } from '../views/ownership-pages.ts';
import type { PagesDeps } from './deps.ts';

/** What this module uses of the pages' dependencies. */
export type NewPasswordPageDeps = Pick<PagesDeps, 'csrfKey' | 'firstPassword' | 'freshness' | 'sessions'>;

/** Where a browser goes after taking an account over: this step, then on to where it was going. */
export const newPasswordStep = (prefix: string, returnTo: string) =>
  `${prefix}/account/new-password${returnTo ? `?return_to=${encodeURIComponent(returnTo)}` : ''}`;

export function newPasswordPages(app: FastifyInstance, deps: NewPasswordPageDeps, prefix: string): void {
  const path = `${prefix}/account/new-password`;
  const returnOf = (request: FastifyRequest, raw: unknown) =>
    typeof raw === 'string' && raw !== '' ? returnTarget(request.hero, raw) : '';

  const signedIn = (request: FastifyRequest, reply: FastifyReply) =>
    signedInOrAnswered(request, reply, deps, prefix);

  const form = (
    request: FastifyRequest,
    reply: FastifyReply,
    active: ActiveSession,
    returnTo: string,
    failure: { code: ErrorCode; text: string } | null,
  ) => {
    return sendForm(request, reply, 'Choose a password', failure, () =>
      firstPasswordForm({
        action: path,
        csrf: csrfToken(request, reply, deps.csrfKey),
        username: active.user.username,
        returnTo,
        skipHref: returnTo || `${prefix}/account`,
        minLength: request.hero.snapshot.config.accounts.password_min_length,
        invalid: failure !== null,
      }),
    );
  };

  app.get(path, async (request, reply) => {
    const active = await signedIn(request, reply);
    if (!active) return reply;
    const returnTo = returnOf(request, (request.query as Record<string, unknown>).return_to);
    // Nothing to choose here (a password exists, or the sign-in is not fresh): the account page says what to do.
    if (!(await deps.firstPassword.allowed(active)))
      return reply.code(303).header('location', `${prefix}/account`).send();
    return form(request, reply, active, returnTo, null);
  });

  app.post(path, async (request, reply) => {
    const active = await signedIn(request, reply);
    if (!active) return reply;
    const returnTo = returnOf(request, formField(request.body, 'return_to'));
    const next = formField(request.body, 'new_password') ?? '';
    if ([...next].length > MAX_PASSWORD_LENGTH)
      return form(request, reply, active, returnTo, {
        code: 'password_too_long',
        text: ERRORS.password_too_long.detail,
      });
    if (next !== (formField(request.body, 'confirm_password') ?? ''))
      return form(request, reply, active, returnTo, {
        code: 'invalid_input',
        text: 'The two passwords differ.',
      });
    const minLength = request.hero.snapshot.config.accounts.password_min_length;
    const result = await deps.firstPassword.choose(active, next, minLength, request.hero.clientIp);
    if (result.kind === 'not_allowed')
      return sendFailure(request, reply, 'forbidden', {
        heading: 'Choose a password',
        text: 'A password can be chosen here only right after signing in by a mailed link. Use “Forgot your password?” on the sign-in page instead.',
        link: { href: `${prefix}/account`, label: 'Your account' },
      });
    if (result.kind === 'invalid')
      return form(request, reply, active, returnTo, { code: 'invalid_input', text: result.problem });
    return reply
      .code(303)
      .header('location', returnTo || `${prefix}/account?done=password`)
      .send();
  });
}
