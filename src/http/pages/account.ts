// GET /auth/account and its forms: change the password (with the current one), see and end own sessions.
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { prefersHtml } from '../../core/accept.ts';
import { hashPassword } from '../../crypto/password.ts';
import { ERRORS, type ErrorCode } from '../../errors.ts';
import { MAX_PASSWORD_LENGTH, passwordProblem } from '../../services/password-policy.ts';
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

export function accountPages(app: FastifyInstance, deps: PagesDeps, prefix: string): void {
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
    const sessions = await deps.sessions.list(active.user.id);
    const csrf = csrfToken(request, reply, deps.csrfKey);
    const tokens = await deps.store.apiTokens.list(active.user.id);
    const claims = [
      ...new Set((await deps.store.authz.claimGrants(active.user.id)).map((g) => g.claim)),
    ].sort();
    const names = new Map(request.hero.snapshot.config.oidc.map((p) => [p.id, p.name]));
    const providers = [
      ...new Set(
        (await deps.store.oidcIdentities.listForUser(active.user.id)).map(
          (i) => names.get(i.provider) ?? i.provider,
        ),
      ),
    ];
    const hasPassword = (await deps.store.users.passwordHash(active.user.id)) !== null;
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
    const problem = passwordProblem(next, {
      minLength: request.hero.snapshot.config.accounts.password_min_length,
      username: user.username,
      email: user.email,
    });
    if (problem) return refuse(request, reply, active, 'invalid_input', `${capitalized(problem)}.`);
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
    const hash = await hashPassword(next);
    const ended = (await deps.sessions.list(user.id)).length - 1;
    // Whoever else holds a session (perhaps the reason for the change) is signed out in the same step.
    await deps.store.users.setPasswordHash(user.id, hash, {
      endSessions: { now: deps.clock.now(), except: active.session.id },
    });
    deps.audit.record({
      action: 'password.change',
      actor: user.username,
      target: user.username,
      ip: request.hero.clientIp,
      detail: { sessions_ended: ended },
    });
    reply.code(303).header('location', `${prefix}/account?done=password`);
    return reply.send();
  });

  app.post(`${prefix}/account/sessions/end`, async (request, reply) => {
    const active = await signedIn(request, reply);
    if (!active) return reply;
    const which = formField(request.body, 'session');
    if (which === null || which === active.session.id)
      return refuse(request, reply, active, 'invalid_input', 'To end this session, sign out.', false);
    if (which === 'others') {
      const n = await deps.sessions.endOthers(active.user.id, active.session.id);
      deps.audit.record({
        action: 'session.end',
        actor: active.user.username,
        target: 'others',
        ip: request.hero.clientIp,
        detail: { sessions_ended: n },
      });
    } else if (await deps.sessions.endOwn(active.user.id, which)) {
      deps.audit.record({
        action: 'session.end',
        actor: active.user.username,
        target: which,
        ip: request.hero.clientIp,
      });
    }
    reply.code(303).header('location', `${prefix}/account?done=ended`);
    return reply.send();
  });

  app.post(`${prefix}/account/tokens`, async (request, reply) => {
    const active = await signedIn(request, reply);
    if (!active) return reply;
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
    // A token narrows its owner's claims; it can never name one the owner does not hold.
    const held = new Set((await deps.store.authz.claimGrants(active.user.id)).map((g) => g.claim));
    if (asked.some((c) => !held.has(c as string)))
      return refuse(
        request,
        reply,
        active,
        'invalid_input',
        'A token can only carry claims you hold.',
        false,
      );
    const { token, record } = await deps.apiTokens.issue({
      userId: active.user.id,
      name,
      claims: asked.length ? (asked as string[]).sort() : null,
      expiresAt: lifetime === null ? null : deps.clock.now() + lifetime,
    });
    deps.audit.record({
      action: 'token.create',
      actor: active.user.username,
      target: record.id,
      ip: request.hero.clientIp,
      detail: { name, claims: record.claims },
    });
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
    const token = await deps.store.apiTokens.byId(id);
    // Only your own: someone else's id is answered exactly like an unknown one.
    if (token && token.userId === active.user.id && (await deps.store.apiTokens.revoke(id, deps.clock.now())))
      deps.audit.record({
        action: 'token.revoke',
        actor: active.user.username,
        target: id,
        ip: request.hero.clientIp,
      });
    reply.code(303).header('location', `${prefix}/account?done=token`);
    return reply.send();
  });
}
