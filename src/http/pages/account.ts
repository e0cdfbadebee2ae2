// GET /auth/account and its forms: change the password (with the current one), see and end own sessions.
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { prefersHtml } from '../../core/accept.ts';
import { ERRORS, type ErrorCode } from '../../errors.ts';
import { AccountError, type Actor } from '../../services/accounts/actor.ts';
import { MAX_PASSWORD_LENGTH } from '../../services/password-policy.ts';
import type { ActiveSession } from '../../services/sessions.ts';
import { csrfToken } from '../auth/csrf.ts';
import { formField, sendPage } from '../auth/respond.ts';
import { signedInOrAnswered } from '../auth/signed-in.ts';
import { sendProblem } from '../problem.ts';
import type { Alert } from '../views/layout.ts';
import { account } from '../views/pages.ts';
import { TOKEN_LIFETIMES, tokensSection } from '../views/tokens.ts';
import type { PagesDeps } from './deps.ts';
import { setTokenFlash, takeTokenFlash } from './token-flash.ts';

const DONE: Record<string, string> = {
  password: 'Your password was changed. Every other session was signed out.',
  ended: 'The session was ended.',
  token: 'The token was revoked.',
};

const capitalized = (s: string) => s.charAt(0).toUpperCase() + s.slice(1);

/** What the account page uses: the account use cases, never the store. */
export type AccountPageDeps = Pick<
  PagesDeps,
  'accounts' | 'sessions' | 'freshness' | 'login' | 'clock' | 'csrfKey' | 'flashSealer' | 'secondFactors'
>;

/** The signed-in person acting on their own account. */
const owner = (request: FastifyRequest, active: ActiveSession): Actor => ({
  kind: 'owner',
  user: active.user,
  sessionId: active.session.id,
  ip: request.hero.clientIp,
});

export function accountPages(app: FastifyInstance, deps: AccountPageDeps, prefix: string): void {
  const signedIn = (request: FastifyRequest, reply: FastifyReply) =>
    signedInOrAnswered(request, reply, deps, prefix);

  async function render(
    request: FastifyRequest,
    reply: FastifyReply,
    active: ActiveSession,
    status: number,
    alert: Alert | null,
    passwordInvalid = false,
    created: { name: string; token: string } | null = null,
  ): Promise<FastifyReply> {
    const csrf = csrfToken(request, reply, deps.csrfKey);
    const {
      sessions,
      tokens,
      claims,
      providers: linked,
      hasPassword,
    } = await deps.accounts.overviews.of(active.user);
    const names = new Map(request.hero.snapshot.config.oidc.map((p) => [p.id, p.name]));
    const providers = [...new Set(linked.map((id) => names.get(id) ?? id))];
    return sendPage(
      request,
      reply,
      status,
      { heading: 'Your account', alert, wide: true },
      account({
        prefix,
        csrf,
        user: active.user,
        current: active.session.id,
        sessions,
        minLength: request.hero.snapshot.config.accounts.password_min_length,
        passwordInvalid,
        hasPassword,
        providers,
        providerNames: names,
        extra: tokensSection({ prefix, csrf, tokens, claims, now: deps.clock.now(), created }),
      }),
    );
  }

  async function refuse(
    request: FastifyRequest,
    reply: FastifyReply,
    active: ActiveSession,
    code: ErrorCode,
    text?: string,
    passwordForm = true,
  ): Promise<FastifyReply> {
    if (!prefersHtml(request.headers.accept)) return sendProblem(reply, code);
    const alert: Alert = { kind: 'error', text: text ?? ERRORS[code].detail };
    return render(request, reply, active, ERRORS[code].status, alert, passwordForm);
  }

  app.get(`${prefix}/account`, async (request, reply) => {
    const active = await signedIn(request, reply);
    if (!active) return reply;
    const done = (request.query as Record<string, unknown>).done;
    const text = typeof done === 'string' ? DONE[done] : undefined;
    const created = takeTokenFlash(request, reply, deps.flashSealer, active, deps.clock.now());
    return render(request, reply, active, 200, text ? { kind: 'ok', text } : null, false, created);
  });

  app.post(`${prefix}/account/password`, async (request, reply) => {
    const active = await signedIn(request, reply);
    if (!active) return reply;
    const current = formField(request.body, 'current_password') ?? '';
    const next = formField(request.body, 'new_password') ?? '';
    const confirm = formField(request.body, 'confirm_password') ?? '';
    // Length first, before anything is hashed.
    if ([...current].length > MAX_PASSWORD_LENGTH || [...next].length > MAX_PASSWORD_LENGTH)
      return refuse(request, reply, active, 'password_too_long');
    if (current === '' || next === '')
      return refuse(request, reply, active, 'invalid_input', 'Enter your current and your new password.');
    if (next !== confirm)
      return refuse(request, reply, active, 'invalid_input', 'The two new passwords differ.');
    const { user } = active;
    // The policy first: a password that would be refused costs no hashing and no proof attempt.
    try {
      deps.accounts.users.checkPassword(user, next);
    } catch (err) {
      if (err instanceof AccountError)
        return refuse(request, reply, active, 'invalid_input', `${capitalized(err.message)}.`);
      throw err;
    }
    // Whoever holds a session must still prove the password before replacing it (a borrowed laptop).
    const check = await deps.login.confirm(user, current, request.hero.clientIp);
    if (typeof check === 'number') {
      const seconds = Math.ceil(check / 1000);
      reply.header('retry-after', String(seconds));
      return refuse(
        request,
        reply,
        active,
        'too_many_requests',
        `Too many attempts. Try again in ${seconds} seconds.`,
      );
    }
    if (check === 'failed')
      return refuse(request, reply, active, 'invalid_credentials', 'The current password is wrong.');
    // Whoever else holds a session (perhaps the reason for the change) is signed out in the same step.
    await deps.accounts.users.setPassword(owner(request, active), user, next);
    reply.code(303).header('location', `${prefix}/account?done=password`);
    return reply.send();
  });

  app.post(`${prefix}/account/sessions/end`, async (request, reply) => {
    const active = await signedIn(request, reply);
    if (!active) return reply;
    const which = formField(request.body, 'session');
    if (which === null || which === active.session.id)
      return refuse(request, reply, active, 'invalid_input', 'To end this session, sign out.', false);
    if (which === 'others') await deps.accounts.sessions.endAll(owner(request, active), active.user);
    else {
      try {
        await deps.accounts.sessions.endOne(owner(request, active), which);
      } catch (err) {
        // Someone else's session, or one already over: the same answer as ending it.
        if (!(err instanceof AccountError)) throw err;
      }
    }
    reply.code(303).header('location', `${prefix}/account?done=ended`);
    return reply.send();
  });

  app.post(`${prefix}/account/tokens`, async (request, reply) => {
    const active = await signedIn(request, reply);
    if (!active) return reply;
    // A token skips the second factor wherever it is used: only a session that passed one may mint it for an
    // account that has (or must have) one, else a password and an old cookie would be enough.
    if (await deps.secondFactors.fallsShort(active.user, active.session)) {
      const mfa = `${prefix}/mfa?return_to=${encodeURIComponent(`${prefix}/account`)}`;
      if (prefersHtml(request.headers.accept)) return reply.code(303).header('location', mfa).send();
      return sendProblem(reply, 'mfa_required', { mfa_url: mfa });
    }
    const name = (formField(request.body, 'name') ?? '').trim();
    const choice = formField(request.body, 'expires') ?? '90d';
    // Own keys only: "__proto__" or "constructor" must not reach the arithmetic below.
    const lifetime = Object.hasOwn(TOKEN_LIFETIMES, choice) ? TOKEN_LIFETIMES[choice] : undefined;
    const raw = (request.body as Record<string, unknown> | null)?.claims;
    const asked = (Array.isArray(raw) ? raw : raw === undefined ? [] : [raw]).filter(
      (c) => typeof c === 'string',
    );
    if (name === '' || name.length > 64 || lifetime === undefined)
      return refuse(
        request,
        reply,
        active,
        'invalid_input',
        'Give the token a name (up to 64 characters).',
        false,
      );
    let token: string;
    try {
      ({ token } = await deps.accounts.tokens.issue(owner(request, active), active.user, {
        name,
        claims: asked.length ? (asked as string[]) : null,
        lifetimeMs: lifetime,
      }));
    } catch (err) {
      if (!(err instanceof AccountError)) throw err;
      const text =
        err.code === 'forbidden' ? 'A token can only carry claims you hold.' : `${capitalized(err.message)}.`;
      return refuse(request, reply, active, 'invalid_input', text, false);
    }
    // Shown once, by the GET this redirect leads to, and never again (only its hash is stored). Answering
    // the POST itself would make a reload post again and create a second token.
    setTokenFlash(reply, deps.flashSealer, active, { name, token }, deps.clock.now());
    reply.code(303).header('location', `${prefix}/account#tokens-heading`);
    return reply.send();
  });

  app.post(`${prefix}/account/tokens/revoke`, async (request, reply) => {
    const active = await signedIn(request, reply);
    if (!active) return reply;
    const id = formField(request.body, 'token') ?? '';
    try {
      await deps.accounts.tokens.revoke(owner(request, active), id);
    } catch (err) {
      // Only your own: someone else's id is answered exactly like an unknown one.
      if (!(err instanceof AccountError)) throw err;
    }
    reply.code(303).header('location', `${prefix}/account?done=token`);
    return reply.send();
  });
}
