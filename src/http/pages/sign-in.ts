// Signing a browser in, the same way for every method: a brand-new session (whatever cookie the browser held
// before, possibly planted, is ended and replaced), the session and device cookies, and an audit line.
// Every first factor (password, mailed link, reset, invite, identity provider, setup) passes through signIn():
// it is the one place that stops for a second factor, so no way in can skip one.
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { SecondFactorMethod } from '../../core/amr.ts';
import type { AuthMethod } from '../../core/principal.ts';
import type { SessionOidc, User } from '../../core/records.ts';
import { PENDING_TTL_MS } from '../../services/second-factor/sign-in.ts';
import { setDeviceCookie } from '../auth/device-cookie.ts';
import { currentSession, setSessionCookie } from '../auth/session-cookie.ts';
import { cookieAttributes } from '../auth/settings.ts';
import type { PagesDeps } from './deps.ts';

/** What signing a browser in uses. */
export type SignInDeps = Pick<
  PagesDeps,
  'sessions' | 'freshness' | 'clock' | 'deviceKey' | 'signInMetric' | 'audit' | 'secondFactors'
>;

export interface SignInOptions {
  oidc?: SessionOidc | null | undefined;
  /** A second factor already proved with this sign-in (a trusted provider's, or the challenge just passed). */
  secondFactor?: SecondFactorMethod | null | undefined;
  /** A step-up's new session ends when the one it replaces would have. */
  endsBy?: number | undefined;
}

/**
 * Signs `user` in after a first factor and returns where to send the browser: `next`, or the second-factor
 * page when the user has a factor (or must enrol one) — then no session exists yet, only the held sign-in.
 */
export async function signIn(
  request: FastifyRequest,
  reply: FastifyReply,
  deps: SignInDeps,
  user: User,
  method: AuthMethod,
  next: string,
  opts: SignInOptions = {},
): Promise<string> {
  // A passkey sign-in is two factors by itself (something held, unlocked by something known or biometric).
  const twoFactors = method === 'passkey' || Boolean(opts.secondFactor);
  let step = twoFactors ? null : await deps.secondFactors.needed(user);
  if (step === null) {
    const id = await startSession(request, reply, deps, user, method, opts);
    if (twoFactors) return next;
    // Asked again once the session exists: the owner may have added a first factor in between, and the sweep
    // of other sessions that comes with it can have run before this one was written. Either that sweep ended
    // this session or this check sees the factor.
    step = await deps.secondFactors.needed(user);
    if (step === null) return next;
    await deps.sessions.end(id);
  }
  const token = await deps.secondFactors.hold({ user, method, returnTo: next, oidc: opts.oidc ?? null });
  setMfaPendingCookie(reply, token, PENDING_TTL_MS);
  deps.audit.record({
    action: 'login.second_factor_pending',
    actor: user.username,
    ip: request.hero.clientIp,
    detail: { method, step },
  });
  return `${request.hero.snapshot.config.server.auth_prefix}/mfa`;
}

/** Starts the session: every factor the sign-in needs has been proved. Returns its id. */
export async function startSession(
  request: FastifyRequest,
  reply: FastifyReply,
  deps: SignInDeps,
  user: User,
  method: AuthMethod,
  opts: SignInOptions = {},
): Promise<string> {
  const s = request.hero;
  const previous = await currentSession(request, deps.sessions, deps.freshness);
  if (previous) await deps.sessions.end(previous.session.id);
  const { token, session } = await deps.sessions.start(user, method, {
    ip: s.clientIp,
    userAgent: request.headers['user-agent'] ?? null,
    ...(opts.oidc ? { oidc: opts.oidc } : {}),
    secondFactor: opts.secondFactor ?? null,
    ...(opts.endsBy !== undefined ? { endsBy: opts.endsBy } : {}),
  });
  const now = deps.clock.now();
  setSessionCookie(reply, token, session.absoluteExpiresAt - now);
  setDeviceCookie(reply, deps.deviceKey, user, now);
  deps.signInMetric(method, 'ok');
  deps.audit.record({
    action: 'login.success',
    actor: user.username,
    ip: s.clientIp,
    detail: {
      session: session.id,
      method,
      ...(opts.secondFactor ? { second_factor: opts.secondFactor } : {}),
    },
  });
  return session.id;
}

export function setMfaPendingCookie(reply: FastifyReply, token: string, lifetimeMs: number): void {
  const spec = reply.request.hero.snapshot.auth.mfaPending;
  // Lax, not Strict: an identity provider's redirect (another site) leads to the challenge page, and Strict
  // cookies are withheld along a redirect chain that began elsewhere. Its form posts are CSRF-checked anyway.
  reply.setCookie(
    spec.name,
    token,
    cookieAttributes(spec, { sameSite: 'lax', maxAge: Math.max(0, Math.floor(lifetimeMs / 1000)) }),
  );
}
