// Sign-in through identity providers: GET /auth/oauth/:provider/start sends the browser to the provider,
// GET /auth/oauth/:provider/callback takes its answer, POST /auth/oauth/:provider/backchannel-logout ends the
// sessions a provider's logout token names.
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { readCookie } from '../../core/cookies.ts';
import { randomSecret } from '../../crypto/tokens.ts';
import type { ErrorCode } from '../../errors.ts';
import type { OidcFailure } from '../../ports/oidc.ts';
import type { CompleteOutcome } from '../../services/oidc-login.ts';
import { ATTEMPT_TTL_MS, attemptId } from '../../services/oidc-login.ts';
import { requestOrigin } from '../auth/csrf.ts';
import { formField, sendFailure } from '../auth/respond.ts';
import { returnTarget } from '../auth/return-target.ts';
import { cookieAttributes } from '../auth/settings.ts';
import { sendProblem } from '../problem.ts';
import type { PagesDeps } from './deps.ts';
import { type SignInDeps, signIn } from './sign-in.ts';
import { auditTakeover, type TakeoverAuditDeps } from './takeover-audit.ts';

/** What this module uses of the pages' dependencies. */
export type OidcPageDeps = Pick<PagesDeps, 'audit' | 'oidc' | 'signInMetric'> &
  SignInDeps &
  TakeoverAuditDeps;

// 256 random bits as base64url: the shape of a state, and of a binding value.
const BINDING = /^[A-Za-z0-9_-]{43}$/;

const FAILURE_CODE: Record<OidcFailure, ErrorCode> = {
  denied: 'oidc_denied',
  invalid: 'oidc_response_invalid',
  failed: 'oidc_failed',
  unavailable: 'oidc_unavailable',
};

/**
 * Each attempt's binding cookie: its own name, so tabs signing in at once never overwrite each other's. Lax,
 * so the provider's redirect back (a top-level navigation from its site) carries it; HttpOnly, host-only.
 */
const bindingName = (request: FastifyRequest, id: string) =>
  `${request.hero.snapshot.auth.oidcBinding.name}_${id}`;

function setBinding(reply: FastifyReply, id: string, value: string, maxAge: number): void {
  const spec = reply.request.hero.snapshot.auth.oidcBinding;
  reply.setCookie(bindingName(reply.request, id), value, cookieAttributes(spec, { sameSite: 'lax', maxAge }));
}

export function oidcPages(app: FastifyInstance, deps: OidcPageDeps, prefix: string): void {
  const { providers, login } = deps.oidc;
  const providerOf = (request: FastifyRequest) => (request.params as { provider: string }).provider;
  const backToLogin = (request: FastifyRequest, returnTo: string) => ({
    href: `${requestOrigin(request.hero)}${prefix}/login${returnTo ? `?return_to=${encodeURIComponent(returnTo)}` : ''}`,
    label: 'Back to sign-in',
  });

  app.get(`${prefix}/oauth/:provider/start`, async (request, reply) => {
    const id = providerOf(request);
    if (!providers.config(id)) return sendProblem(reply, 'not_found');
    const query = request.query as Record<string, unknown>;
    const returnTo = returnTarget(request.hero, typeof query.return_to === 'string' ? query.return_to : null);
    const wait = deps.oidc.starts.hit(request.hero.clientIp);
    if (wait > 0) {
      const seconds = Math.ceil(wait / 1000);
      reply.header('retry-after', String(seconds));
      return sendFailure(request, reply, 'too_many_requests', {
        text: `Too many sign-ins from your network. Try again in ${seconds} seconds.`,
        link: backToLogin(request, returnTo),
      });
    }
    const origin = requestOrigin(request.hero);
    const binding = randomSecret(32);
    const begun = await login.begin(id, {
      // The provider sends the browser back to the host it left from, where its cookies live.
      redirectUri: `${origin}${prefix}/oauth/${id}/callback`,
      returnTo,
      binding,
    });
    if (begun.kind === 'unknown') return sendProblem(reply, 'not_found');
    if (begun.kind === 'unavailable') {
      request.log.warn({ provider: id }, 'identity provider unavailable');
      return sendFailure(request, reply, 'oidc_unavailable', { link: backToLogin(request, returnTo) });
    }
    setBinding(reply, begun.attemptId, binding, ATTEMPT_TTL_MS / 1000);
    return reply.code(303).header('location', begun.url).send();
  });

  app.get(`${prefix}/oauth/:provider/callback`, async (request, reply) => {
    const id = providerOf(request);
    const s = request.hero;
    const callback = new URL(`${requestOrigin(s)}${s.path}${s.query}`);
    const state = callback.searchParams.get('state');
    let binding: string | null = null;
    if (state !== null && BINDING.test(state)) {
      const attempt = attemptId(state);
      binding = readCookie(request.headers.cookie, bindingName(request, attempt));
      // Whatever the outcome, this attempt is over: its cookie goes.
      if (binding !== null) setBinding(reply, attempt, '', 0);
    }
    const outcome = await login.complete(id, callback, binding);
    if (outcome.kind === 'ok') {
      if (outcome.reset) auditTakeover(request, deps, outcome.user, outcome.reset, `oidc:${id}`);
      // return_to was checked when the attempt began; checked again now, against the config of today.
      const next = await signIn(
        request,
        reply,
        deps,
        outcome.user,
        `oidc:${id}`,
        returnTarget(s, outcome.returnTo),
        { oidc: outcome.session, secondFactor: outcome.providerMfa ? 'provider' : null },
      );
      if (outcome.created || outcome.linked)
        deps.audit.record({
          action: outcome.created ? 'register' : 'oidc.link',
          actor: outcome.user.username,
          ip: s.clientIp,
          detail: { provider: id },
        });
      return reply.code(303).header('location', next).send();
    }
    if (outcome.kind === 'unknown') return sendProblem(reply, 'not_found');
    return refuse(request, reply, id, outcome);
  });

  /** Every way a callback can fail: a page with one clear line, a log entry with the detail, no session. */
  function refuse(
    request: FastifyRequest,
    reply: FastifyReply,
    id: string,
    outcome: Exclude<CompleteOutcome, { kind: 'ok' | 'unknown' }>,
  ): FastifyReply {
    const s = request.hero;
    const name = providers.config(id)?.name ?? id;
    const returnTo = 'returnTo' in outcome ? outcome.returnTo : '';
    const link = backToLogin(request, returnTo);
    let code: ErrorCode;
    let text: string | undefined;
    let reason: string;
    switch (outcome.kind) {
      case 'state_invalid':
        code = 'oidc_state_invalid';
        reason = outcome.detail;
        break;
      case 'provider':
        code = FAILURE_CODE[outcome.failure];
        reason = outcome.detail;
        if (outcome.failure === 'denied')
          text =
            outcome.providerError === 'access_denied'
              ? `Sign-in at ${name} was cancelled.`
              : `${name} did not sign you in.`;
        break;
      case 'no_account':
        code = 'oidc_no_account';
        reason = outcome.reason;
        // The same words whether or not the address is known here: no way to probe for accounts. (An
        // unverified address is refused before it is looked up, so its own words tell nothing either.)
        text =
          outcome.reason === 'email_missing'
            ? `${name} did not share an email address, which a new account needs.`
            : outcome.reason === 'email_unverified'
              ? `No account here belongs to your ${name} account. ${name} has not verified your email address, so it cannot be used here: verify it at ${name} and try again, or ask an administrator for access.`
              : `No account here belongs to your ${name} account. Ask an administrator for access.`;
        if (outcome.reason === 'email_unverified')
          deps.audit.record({
            action: 'oidc.provision_refused',
            ip: s.clientIp,
            detail: { provider: id, reason: outcome.reason },
          });
        break;
      case 'disabled':
        code = 'account_disabled';
        reason = 'account disabled';
        break;
    }
    const level = outcome.kind === 'provider' && outcome.failure !== 'denied' ? 'warn' : 'info';
    request.log[level]({ provider: id, outcome: outcome.kind, reason }, 'identity-provider sign-in refused');
    deps.signInMetric(`oidc:${id}`, 'failed');
    deps.audit.record({
      action: 'login.failure',
      actor: outcome.kind === 'disabled' ? outcome.user.username : null,
      ip: s.clientIp,
      detail: { method: `oidc:${id}`, reason: outcome.kind === 'provider' ? outcome.failure : outcome.kind },
    });
    return sendFailure(request, reply, code, {
      heading: 'Sign-in not completed',
      ...(text ? { text } : {}),
      link,
    });
  }

  // Called by the provider, not a browser: the signed logout token is the credential, so the CSRF check of
  // form posts does not apply (see auth-routes).
  app.post(
    `${prefix}/oauth/:provider/backchannel-logout`,
    { config: { csrf: false } },
    async (request, reply) => {
      const id = providerOf(request);
      reply.header('cache-control', 'no-store');
      const token = formField(request.body, 'logout_token');
      if (token === null || token.length > 16_384) return sendProblem(reply, 'invalid_input');
      const result = await login.backchannelLogout(id, token);
      if (result.kind === 'unknown') return sendProblem(reply, 'not_found');
      if (result.kind === 'refused') {
        request.log.info(
          { provider: id, failure: result.failure, reason: result.detail },
          'logout token refused',
        );
        return sendProblem(
          reply,
          result.failure === 'unavailable' ? 'oidc_unavailable' : 'oidc_response_invalid',
        );
      }
      deps.audit.record({
        action: 'oidc.backchannel_logout',
        ip: request.hero.clientIp,
        detail: { provider: id, ended: result.ended },
      });
      return reply.code(200).send();
    },
  );
}
