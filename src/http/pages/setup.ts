// GET/POST /auth/setup: while no user exists, the one-time link printed at start creates the first admin.
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { prefersHtml } from '../../core/accept.ts';
import { MAX_PASSWORD_LENGTH } from '../../services/password-policy.ts';
import { csrfToken } from '../auth/csrf.ts';
import { formField, sendFailure, sendPage } from '../auth/respond.ts';
import { sendProblem } from '../problem.ts';
import { setupForm } from '../views/pages.ts';
import type { PagesDeps } from './deps.ts';
import { type SignInDeps, signIn } from './sign-in.ts';

/** What this module uses of the pages' dependencies. */
export type SetupPageDeps = Pick<PagesDeps, 'audit' | 'csrfKey' | 'setup'> & SignInDeps;

export function setupPages(app: FastifyInstance, deps: SetupPageDeps, prefix: string): void {
  function form(
    request: FastifyRequest,
    reply: FastifyReply,
    status: number,
    token: string,
    values: { username: string; email: string },
    problem: string | null,
  ): FastifyReply {
    if (problem && !prefersHtml(request.headers.accept))
      return sendProblem(reply, 'invalid_input', { problem });
    return sendPage(
      request,
      reply,
      status,
      { heading: 'Set up Hero Gateway', alert: problem ? { kind: 'error', text: problem } : null },
      setupForm({
        action: `${prefix}/setup`,
        csrf: csrfToken(request, reply, deps.csrfKey),
        token,
        ...values,
        minLength: request.hero.snapshot.config.accounts.password_min_length,
        invalid: problem !== null,
      }),
    );
  }

  const gone = (request: FastifyRequest, reply: FastifyReply) =>
    sendFailure(request, reply, 'link_invalid', {
      heading: 'Setup link not valid',
      text: 'This setup link was already used or has expired. Restart the gateway while no user exists to get a new one, or sign in.',
      link: { href: `${prefix}/login`, label: 'Sign in' },
    });

  // GET only shows the form: it never uses the token up.
  app.get(`${prefix}/setup`, async (request, reply) => {
    const token = (request.query as Record<string, unknown>).token;
    if (typeof token !== 'string' || !(await deps.setup.usable(token))) return gone(request, reply);
    return form(request, reply, 200, token, { username: '', email: '' }, null);
  });

  app.post(`${prefix}/setup`, async (request, reply) => {
    const token = formField(request.body, 'token') ?? '';
    const username = formField(request.body, 'username') ?? '';
    const email = formField(request.body, 'email') ?? '';
    const password = formField(request.body, 'password') ?? '';
    const confirm = formField(request.body, 'confirm_password') ?? '';
    const values = { username, email };
    if (!(await deps.setup.usable(token))) return gone(request, reply);
    if ([...password].length > MAX_PASSWORD_LENGTH)
      return form(request, reply, 400, token, values, 'Passwords are at most 1024 characters long.');
    if (password !== confirm) return form(request, reply, 400, token, values, 'The two passwords differ.');
    const result = await deps.setup.complete(
      token,
      { username, email, password },
      request.hero.snapshot.config.accounts.password_min_length,
    );
    if (result.kind === 'gone') return gone(request, reply);
    if (result.kind === 'invalid') {
      const text = result.problem.charAt(0).toUpperCase() + result.problem.slice(1);
      return form(request, reply, 400, token, values, text.endsWith('.') ? text : `${text}.`);
    }
    const { user } = result;
    deps.audit.record({
      action: 'setup.complete',
      actor: user.username,
      target: user.username,
      ip: request.hero.clientIp,
    });
    const next = await signIn(request, reply, deps, user, 'password', `${prefix}/account`);
    return reply.code(303).header('location', next).send();
  });
}
