// GET/POST /auth/register. `registration = "closed"`: no page (404). "invite": only through an invite link,
// for the invited address. "open": anyone; the account stays unconfirmed until the mailed link is followed.
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { prefersHtml } from '../../core/accept.ts';
import { MAX_PASSWORD_LENGTH } from '../../services/password-policy.ts';
import { canonicalEmail } from '../../services/users.ts';
import { csrfToken } from '../auth/csrf.ts';
import { formField, sendFailure, sendPage } from '../auth/respond.ts';
import { returnTarget } from '../auth/return-target.ts';
import { sendProblem } from '../problem.ts';
import { notice, registerForm } from '../views/mail-pages.ts';
import type { PagesDeps } from './deps.ts';
import { setPasswordProof } from './password-proof.ts';
import { type SignInDeps, signIn } from './sign-in.ts';

/** What this module uses of the pages' dependencies. */
export type RegisterPageDeps = Pick<
  PagesDeps,
  'audit' | 'clock' | 'csrfKey' | 'emailFlows' | 'mailThrottle' | 'proofKey'
> &
  SignInDeps;

const CHECK_MAIL =
  'Almost done: we mailed you a link to confirm your address. Follow it to finish and sign in.';

export function registerPages(app: FastifyInstance, deps: RegisterPageDeps, prefix: string): void {
  const mode = (request: FastifyRequest) => request.hero.snapshot.config.accounts.registration;
  const closed = (request: FastifyRequest, reply: FastifyReply) => sendFailure(request, reply, 'not_found');

  const form = (
    request: FastifyRequest,
    reply: FastifyReply,
    status: number,
    values: { username: string; email: string; returnTo: string },
    error: string | null,
  ) => {
    if (error && !prefersHtml(request.headers.accept))
      return sendProblem(reply, 'invalid_input', { problem: error });
    return sendPage(
      request,
      reply,
      status,
      { heading: 'Create an account', alert: error ? { kind: 'error', text: error } : null },
      registerForm({
        action: `${prefix}/register`,
        csrf: csrfToken(request, reply, deps.csrfKey),
        ...values,
        minLength: request.hero.snapshot.config.accounts.password_min_length,
        invalid: error !== null,
        loginHref: `${prefix}/login`,
      }),
    );
  };

  app.get(`${prefix}/register`, async (request, reply) => {
    if (mode(request) === 'invite') {
      const token = (request.query as Record<string, unknown>).token;
      if (typeof token !== 'string') return closed(request, reply);
      return reply
        .code(303)
        .header('location', `${prefix}/invite?token=${encodeURIComponent(token)}`)
        .send();
    }
    if (mode(request) !== 'open') return closed(request, reply);
    const raw = (request.query as Record<string, unknown>).return_to;
    const returnTo = typeof raw === 'string' && raw ? returnTarget(request.hero, raw) : '';
    return form(request, reply, 200, { username: '', email: '', returnTo }, null);
  });

  app.post(`${prefix}/register`, async (request, reply) => {
    if (mode(request) === 'closed') return closed(request, reply);
    // Only these fields are read: anything else a form adds (role, email_verified, …) is ignored.
    const username = formField(request.body, 'username') ?? '';
    const email = formField(request.body, 'email') ?? '';
    const password = formField(request.body, 'password') ?? '';
    const rawReturn = formField(request.body, 'return_to');
    const returnTo = rawReturn ? returnTarget(request.hero, rawReturn) : '';
    const values = { username, email, returnTo };
    if ([...password].length > MAX_PASSWORD_LENGTH)
      return form(request, reply, 400, values, 'Passwords are at most 1024 characters long.');
    if (password !== (formField(request.body, 'confirm_password') ?? ''))
      return form(request, reply, 400, values, 'The two passwords differ.');
    const minLength = request.hero.snapshot.config.accounts.password_min_length;

    if (mode(request) === 'invite') {
      // An invite is for one address: it cannot register another.
      const token = formField(request.body, 'token');
      const invite = await deps.emailFlows.linkUsable(token, 'invite');
      if (!invite) return closed(request, reply);
      if (invite.email !== canonicalEmail(email))
        return form(request, reply, 400, values, 'This invite is for another address.');
      const result = await deps.emailFlows.setPasswordByLink(token, 'invite', password, minLength);
      if (result.kind === 'invalid') return form(request, reply, 400, values, result.problem);
      if (result.kind === 'gone') return closed(request, reply);
      deps.audit.record({
        action: 'invite.accept',
        actor: result.value.user.username,
        ip: request.hero.clientIp,
      });
      const next = await signIn(request, reply, deps, result.value.user, 'password', `${prefix}/account`);
      return reply.code(303).header('location', next).send();
    }

    const wait = await deps.mailThrottle.hit(request.hero.clientIp, canonicalEmail(email));
    if (wait > 0) {
      reply.header('retry-after', String(Math.ceil(wait / 1000)));
      return sendFailure(request, reply, 'too_many_requests', {
        text: 'Too many requests. Try again later.',
      });
    }
    const result = await deps.emailFlows.register({ username, email, password }, minLength, returnTo);
    if (result.kind === 'invalid') return form(request, reply, 400, values, result.problem);
    // The browser that chose the password may confirm the address without typing it again; any other browser
    // must prove it or take the account over (anyone can register anyone's address).
    if (result.kind === 'ok') setPasswordProof(reply, deps.proofKey, result.value, deps.clock.now());
    deps.audit.record({ action: 'register', target: canonicalEmail(email), ip: request.hero.clientIp });
    if (!prefersHtml(request.headers.accept)) return reply.code(202).send({ status: 'accepted' });
    return sendPage(
      request,
      reply,
      200,
      { heading: 'Check your email', alert: { kind: 'ok', text: CHECK_MAIL } },
      notice({
        text: 'You can close this page.',
        link: { href: `${prefix}/login`, label: 'Back to sign-in' },
      }),
    );
  });
}
