// GET/POST /auth/login: the password sign-in page.
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { prefersHtml } from '../../core/accept.ts';
import { hasSecondFactor } from '../../core/amr.ts';
import { readCookie } from '../../core/cookies.ts';
import { acceptsSession, type CompiledRoute } from '../../core/routes.ts';
import type { ErrorCode } from '../../errors.ts';
import { ERRORS } from '../../errors.ts';
import { MAX_PASSWORD_LENGTH } from '../../services/password-policy.ts';
import { csrfToken } from '../auth/csrf.ts';
import { isKnownDevice } from '../auth/device-cookie.ts';
import { formField, sendPage } from '../auth/respond.ts';
import { returnTarget, targetRoute } from '../auth/return-target.ts';
import { currentSession } from '../auth/session-cookie.ts';
import { sendProblem } from '../problem.ts';
import { loginForm } from '../views/pages.ts';
import { passkeySignIn } from '../views/second-factor-pages.ts';
import type { PagesDeps } from './deps.ts';
import { passkeyOptions } from './passkey-offer.ts';
import { setPasswordProof } from './password-proof.ts';
import { type SignInDeps, signIn } from './sign-in.ts';

/** What this module uses of the pages' dependencies. */
export type LoginPageDeps = Pick<
  PagesDeps,
  | 'audit'
  | 'availability'
  | 'clock'
  | 'csrfKey'
  | 'deviceKey'
  | 'emailFlows'
  | 'freshness'
  | 'login'
  | 'mailThrottle'
  | 'oidc'
  | 'passkeys'
  | 'proofKey'
  | 'sessions'
  | 'signInMetric'
> &
  SignInDeps;

/** Providers that are the only way into the target route (no `local` there), or null when any way will do. */
function providersOnly(route: CompiledRoute | null): readonly string[] | null {
  return route && !route.auth.includes('local') && route.auth.includes('oauth') ? route.providers : null;
}

async function renderLogin(
  request: FastifyRequest,
  reply: FastifyReply,
  deps: LoginPageDeps,
  status: number,
  returnTo: string,
  failure: ErrorCode | null,
  opts: { text?: string; ok?: string | undefined; username?: string } = {},
): Promise<FastifyReply> {
  const { text, ok } = opts;
  if (failure && !prefersHtml(request.headers.accept)) return sendProblem(reply, failure);
  const { server, accounts } = request.hero.snapshot.config;
  const prefix = server.auth_prefix;
  const back = returnTo ? `?return_to=${encodeURIComponent(returnTo)}` : '';
  const only = providersOnly(targetRoute(request.hero, returnTo));
  // Other ways in, each shown only when the config offers it (and the app asked for accepts it).
  const providers = request.hero.snapshot.config.oidc
    .filter((p) => only === null || only.includes(p.id))
    .map((p) => ({
      href: `${prefix}/oauth/${p.id}/start${back}`,
      label: `Sign in with ${p.name}`,
      ...(deps.oidc.providers.available(p.id) ? {} : { note: 'unavailable right now' }),
    }));
  const buttons = [
    ...(accounts.magic_link && only === null
      ? [{ href: `${prefix}/magic-link${back}`, label: 'Mail me a sign-in link' }]
      : []),
    ...providers,
  ];
  const links =
    only !== null
      ? []
      : [
          { href: `${prefix}/forgot`, label: 'Forgot your password?' },
          ...(accounts.registration === 'open'
            ? [{ href: `${prefix}/register${back}`, label: 'Create an account' }]
            : []),
        ];
  const alert = failure
    ? { kind: 'error' as const, text: text ?? ERRORS[failure].detail }
    : ok
      ? { kind: 'ok' as const, text: ok }
      : null;
  const csrf = csrfToken(request, reply, deps.csrfKey);
  // Only where a passkey could work here (this origin is the relying party's) and nothing restricts the app
  // to identity providers; a store fault leaves the page without it rather than without a page.
  const options =
    only === null && failure !== 'store_unavailable'
      ? await passkeyOptions(request, deps.passkeys, null).catch(() => null)
      : null;
  return sendPage(
    request,
    reply,
    status,
    { heading: 'Sign in', alert, passkeys: options !== null },
    loginForm({
      action: `${prefix}/login`,
      csrf,
      ...(options === null
        ? {}
        : { passkey: passkeySignIn({ action: `${prefix}/passkey`, csrf, options, returnTo }) }),
      returnTo,
      // Typed again after a refusal is a chore; the username is no secret to the one who typed it (escaped,
      // and cut to the longest address). Never the password.
      username: (opts.username ?? '').slice(0, 254),
      // Nothing typed was wrong when the service itself is unavailable.
      invalid: failure !== null && failure !== 'store_unavailable' && failure !== 'invalid_second_factor',
      password: only === null,
      alternatives: { buttons, links },
    }),
  );
}

/** Why the last try failed, when another page sent the browser back here. */
const FAILED: Record<string, string> = {
  passkey: 'That passkey was not accepted. Try again, or sign in with your password.',
};

const DONE: Record<string, string> = {
  reset: 'Your password was changed and every session ended. Sign in with the new password.',
  logout: 'You are signed out, here and at your identity provider.',
};

export function loginPages(app: FastifyInstance, deps: LoginPageDeps, prefix: string): void {
  app.get(`${prefix}/login`, async (request, reply) => {
    const query = request.query as Record<string, unknown>;
    const raw = typeof query.return_to === 'string' ? query.return_to : null;
    const returnTo = returnTarget(request.hero, raw);
    const active = await currentSession(request, deps.sessions, deps.freshness);
    // Signed in already: on to the app, unless the app needs a provider this session did not come from
    // (sending the browser back would only bring it here again, in a loop).
    const route = targetRoute(request.hero, returnTo);
    // Signed in, but the app asks for a second factor this session lacks (nginx's forward-auth sends every
    // 401 here): on to the challenge, not back to the app (a loop).
    if (
      active &&
      route &&
      (route.mfa || request.hero.snapshot.config.accounts.second_factor === 'required') &&
      !hasSecondFactor(active.session.authMethod, active.session.secondFactor)
    )
      return reply
        .code(303)
        .header('location', `${prefix}/mfa?return_to=${encodeURIComponent(returnTo)}`)
        .send();
    if (
      active &&
      (providersOnly(route) === null || acceptsSession(route as CompiledRoute, active.session.authMethod))
    ) {
      reply.code(303).header('location', returnTo);
      return reply.send();
    }
    // A form that could only be refused with 503: say the service is unavailable instead (never a verdict on a
    // password nobody could check).
    if (!(await deps.availability.available()))
      return renderLogin(request, reply, deps, 503, raw === null ? '' : returnTo, 'store_unavailable', {
        text: 'Sign-in is temporarily unavailable: the gateway cannot reach its account store. Try again in a minute.',
      });
    const done = typeof query.done === 'string' ? DONE[query.done] : undefined;
    const failed =
      typeof query.failed === 'string' && Object.hasOwn(FAILED, query.failed)
        ? FAILED[query.failed]
        : undefined;
    if (failed)
      return renderLogin(request, reply, deps, 200, raw === null ? '' : returnTo, 'invalid_second_factor', {
        text: failed,
      });
    return renderLogin(request, reply, deps, 200, raw === null ? '' : returnTo, null, { ok: done });
  });

  app.post(`${prefix}/login`, async (request, reply) => {
    const s = request.hero;
    const identifier = formField(request.body, 'username')?.trim() ?? '';
    const password = formField(request.body, 'password') ?? '';
    const rawReturn = formField(request.body, 'return_to');
    const returnTo = rawReturn ? returnTarget(s, rawReturn) : '';
    if (identifier === '' || password === '')
      return renderLogin(request, reply, deps, 400, returnTo, 'invalid_input', {
        text: 'Enter your username and password.',
        username: identifier,
      });
    // Refused before any hashing: argon2 over megabytes of input is a cheap way to burn our CPU.
    if ([...password].length > MAX_PASSWORD_LENGTH)
      return renderLogin(request, reply, deps, 400, returnTo, 'password_too_long', {
        username: identifier,
      });

    const deviceProof = readCookie(request.headers.cookie, s.snapshot.auth.device.name);
    const result = await deps.login.attempt({
      identifier,
      password,
      ip: s.clientIp,
      knownDevice: (user) => isKnownDevice(deps.deviceKey, deviceProof, user, deps.clock.now()),
    });
    const who = identifier.slice(0, 254).toLowerCase();
    switch (result.kind) {
      case 'throttled': {
        deps.signInMetric('password', 'throttled');
        const seconds = Math.ceil(result.retryAfterMs / 1000);
        deps.audit.record({ action: 'login.throttled', target: who, ip: s.clientIp });
        reply.header('retry-after', String(seconds));
        return renderLogin(request, reply, deps, 429, returnTo, 'too_many_requests', {
          text: `Too many attempts. Try again in ${seconds} seconds.`,
          username: identifier,
        });
      }
      case 'failed':
        deps.signInMetric('password', 'failed');
        deps.audit.record({ action: 'login.failure', target: who, ip: s.clientIp });
        return renderLogin(request, reply, deps, 401, returnTo, 'invalid_credentials', {
          username: identifier,
        });
      case 'unverified':
        deps.signInMetric('password', 'unverified');
        deps.audit.record({
          action: 'login.failure',
          actor: result.user.username,
          ip: s.clientIp,
          detail: { reason: 'email_unverified' },
        });
        {
          // Only the account's owner gets this far (right password): send the link again, within limits.
          const wait = await deps.mailThrottle.hit(s.clientIp, result.user.email);
          // This browser proved the password: confirming the address here keeps it.
          setPasswordProof(reply, deps.proofKey, result.user, deps.clock.now());
          if (wait === 0) await deps.emailFlows.sendVerification(result.user, returnTo);
          const text =
            wait === 0
              ? 'Confirm your email address first: we mailed you a new link.'
              : 'Confirm your email address first: follow the link we mailed you.';
          return renderLogin(request, reply, deps, 403, returnTo, 'email_unverified', {
            text,
            username: identifier,
          });
        }
      case 'ok':
        break;
    }
    const next = await signIn(
      request,
      reply,
      deps,
      result.user,
      'password',
      returnTarget(s, returnTo || null),
    );
    return reply.code(303).header('location', next).send();
  });
}
