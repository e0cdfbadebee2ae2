// GET/POST /auth/forgot and /auth/magic-link: ask for a mail. The answer is the same notice whatever the
// address, and the same work: the mail, if any, is only queued.
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { prefersHtml } from '../../core/accept.ts';
import { canonicalIdentifier } from '../../services/login.ts';
import { csrfToken } from '../auth/csrf.ts';
import { formField, sendFailure, sendPage } from '../auth/respond.ts';
import { returnTarget } from '../auth/return-target.ts';
import { sendProblem } from '../problem.ts';
import { notice, requestForm } from '../views/mail-pages.ts';
import type { PagesDeps } from './deps.ts';

/** What this module uses of the pages' dependencies. */
export type MailRequestPageDeps = Pick<PagesDeps, 'csrfKey' | 'emailFlows' | 'mailThrottle'>;

const SENT =
  'If an account matches, a mail with a link is on its way. It can take a minute; check your spam folder too.';

interface RequestPage {
  path: string;
  heading: string;
  intro: string;
  label: string;
  type: 'text' | 'email';
  autocomplete: string;
  button: string;
  enabled: (deps: MailRequestPageDeps, request: FastifyRequest) => boolean;
  act: (
    deps: MailRequestPageDeps,
    request: FastifyRequest,
    identifier: string,
    returnTo: string,
  ) => Promise<void>;
}

const PAGES: RequestPage[] = [
  {
    path: '/forgot',
    heading: 'Reset your password',
    intro: 'Enter your username or email address. We mail you a link to choose a new password.',
    label: 'Username or email',
    type: 'text',
    autocomplete: 'username',
    button: 'Mail me a link',
    enabled: () => true,
    act: (deps, _request, identifier) => deps.emailFlows.forgot(identifier),
  },
  {
    path: '/magic-link',
    heading: 'Sign in by email',
    intro: 'Enter your email address. We mail you a link that signs you in.',
    label: 'Email',
    type: 'email',
    autocomplete: 'email',
    button: 'Mail me a sign-in link',
    enabled: (_deps, request) => request.hero.snapshot.config.accounts.magic_link,
    act: (deps, request, identifier, returnTo) =>
      deps.emailFlows.requestMagicLink(
        identifier,
        returnTo,
        request.hero.snapshot.config.accounts.registration === 'open',
      ),
  },
];

export function mailRequestPages(app: FastifyInstance, deps: MailRequestPageDeps, prefix: string): void {
  const loginHref = `${prefix}/login`;
  for (const p of PAGES) {
    const form = (
      request: FastifyRequest,
      reply: FastifyReply,
      status: number,
      returnTo: string,
      error: string | null,
    ) =>
      sendPage(
        request,
        reply,
        status,
        { heading: p.heading, alert: error ? { kind: 'error', text: error } : null },
        requestForm({
          ...p,
          action: `${prefix}${p.path}`,
          csrf: csrfToken(request, reply, deps.csrfKey),
          returnTo,
          invalid: error !== null,
          loginHref,
        }),
      );

    app.get(`${prefix}${p.path}`, async (request, reply) => {
      if (!p.enabled(deps, request)) return sendFailure(request, reply, 'not_found');
      const raw = (request.query as Record<string, unknown>).return_to;
      return form(
        request,
        reply,
        200,
        typeof raw === 'string' && raw ? returnTarget(request.hero, raw) : '',
        null,
      );
    });

    app.post(`${prefix}${p.path}`, async (request, reply) => {
      if (!p.enabled(deps, request)) return sendFailure(request, reply, 'not_found');
      const identifier = (formField(request.body, 'identifier') ?? '').trim();
      const rawReturn = formField(request.body, 'return_to');
      const returnTo = rawReturn ? returnTarget(request.hero, rawReturn) : '';
      if (identifier === '' || identifier.length > 254) {
        if (!prefersHtml(request.headers.accept)) return sendProblem(reply, 'invalid_input');
        return form(request, reply, 400, returnTo, `Enter your ${p.label.toLowerCase()}.`);
      }
      const wait = await deps.mailThrottle.hit(request.hero.clientIp, canonicalIdentifier(identifier));
      if (wait > 0) {
        const seconds = Math.ceil(wait / 1000);
        reply.header('retry-after', String(seconds));
        return sendFailure(request, reply, 'too_many_requests', {
          text: `Too many requests. Try again in ${Math.ceil(seconds / 60)} minute(s).`,
        });
      }
      await p.act(deps, request, identifier, returnTo);
      if (!prefersHtml(request.headers.accept)) return reply.code(202).send({ status: 'accepted' });
      return sendPage(
        request,
        reply,
        200,
        { heading: 'Check your email', alert: { kind: 'ok', text: SENT } },
        notice({
          text: 'You can close this page.',
          link: { href: loginHref, label: 'Back to sign-in' },
        }),
      );
    });
  }
}
