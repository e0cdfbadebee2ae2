// Server-side sessions: starting one at sign-in, recognizing its cookie on every request, sliding renewal
// under an absolute cap, and ending sessions (logout, password change, from the account page).
import { isSecondFactor, type SecondFactorMethod } from '../core/amr.ts';
import type { MaybePromise } from '../core/maybe-promise.ts';
import type { AuthMethod, Principal } from '../core/principal.ts';
import { hashToken, randomSecret } from '../crypto/tokens.ts';
import type { Clock } from '../ports/clock.ts';
import type { Session, SessionOidc, Store, User } from '../ports/store.ts';
import { AuthzCache, type AuthzFreshness } from './authz-freshness.ts';

/** last_seen is bookkeeping: one write a minute per session keeps the request path read-only. */
export const LAST_SEEN_WRITE_INTERVAL_MS = 60_000;

// 256 random bits as base64url; anything else is not a session token and needs no lookup.
const SESSION_TOKEN = /^[A-Za-z0-9_-]{43}$/;

export interface SessionTimeouts {
  idleMs: number;
  absoluteMs: number;
}

export interface ActiveSession {
  session: Session;
  user: User;
}

/** Who a session is, as the auth modes vouch for them. */
export function sessionPrincipal(active: ActiveSession): Principal {
  const { secondFactor } = active.session;
  return {
    user: active.user,
    method: active.session.authMethod as AuthMethod,
    secondFactor: isSecondFactor(secondFactor) ? secondFactor : null,
    claimLimit: null,
  };
}

export interface SessionServiceOptions {
  /** Read at each use, so a config reload applies to sessions started or renewed afterwards. */
  timeouts: () => SessionTimeouts;
  freshness: AuthzFreshness;
  onTouchError?: (err: unknown) => void;
}

export class SessionService {
  readonly #store: Store;
  readonly #clock: Clock;
  readonly #timeouts: () => SessionTimeouts;
  readonly #onTouchError: (err: unknown) => void;
  // Keyed by SHA-256 of the token. Cleared by the authz version, which moves on revocation, user disable and
  // delete in any process, so a cached session is never trusted past the next change, and a read that change
  // overtook is not cached at all.
  readonly #cache: AuthzCache<string, ActiveSession>;

  constructor(store: Store, clock: Clock, opts: SessionServiceOptions) {
    this.#store = store;
    this.#clock = clock;
    this.#timeouts = opts.timeouts;
    this.#onTouchError = opts.onTouchError ?? (() => {});
    this.#cache = new AuthzCache(opts.freshness, 50_000);
  }

  /**
   * A brand-new session (a sign-in, which it also records as the user's last): the token is returned once,
   * for the cookie, and only its hash is stored.
   */
  async start(
    user: User,
    method: AuthMethod,
    meta: {
      ip: string | null;
      userAgent: string | null;
      oidc?: SessionOidc;
      secondFactor?: SecondFactorMethod | null;
      /** A step-up's new session ends when the one it replaces would have: proving more never buys time. */
      endsBy?: number;
    },
  ): Promise<{ token: string; session: Session }> {
    const now = this.#clock.now();
    const { idleMs, absoluteMs } = this.#timeouts();
    const token = randomSecret(32);
    const absoluteExpiresAt = Math.min(now + absoluteMs, meta.endsBy ?? Number.POSITIVE_INFINITY);
    const session = await this.#store.sessions.create({
      tokenHash: hashToken(token),
      userId: user.id,
      authMethod: method,
      secondFactor: meta.secondFactor ?? null,
      idleExpiresAt: Math.min(now + idleMs, absoluteExpiresAt),
      absoluteExpiresAt,
      ip: meta.ip,
      userAgent: meta.userAgent?.slice(0, 256) ?? null,
      ...(meta.oidc ? { oidc: meta.oidc } : {}),
    });
    // Bookkeeping for the user list: a failed write must not fail the sign-in.
    this.#store.users.recordLogin(user.id, now).catch(this.#onTouchError);
    return { token, session };
  }

  /**
   * The live session behind a cookie value, or null for anything else: malformed, unknown, revoked, expired,
   * or its user disabled or deleted. Answers synchronously when the session is cached.
   */
  resolve(token: string): MaybePromise<ActiveSession | null> {
    if (!SESSION_TOKEN.test(token)) return null;
    const hash = hashToken(token);
    const now = this.#clock.now();
    const cached = this.#cache.get(hash);
    if (cached) {
      // Another process may have renewed the session since we cached it: ask the store before refusing.
      if (now < cached.session.idleExpiresAt) return this.#admit(cached, now);
      this.#cache.delete(hash);
    }
    return this.#cache
      .read(hash, () => this.#store.sessions.findActive(hash, now))
      .then((found) => found && this.#admit(found, now));
  }

  #admit(active: ActiveSession, now: number): ActiveSession | null {
    const { session, user } = active;
    if (user.disabledAt !== null || session.revokedAt !== null) return null;
    if (now >= session.absoluteExpiresAt || now >= session.idleExpiresAt) return null;
    if (now - session.lastSeenAt >= LAST_SEEN_WRITE_INTERVAL_MS) {
      // Sliding renewal, capped by the absolute expiry: activity never makes a session immortal.
      const idle = Math.min(now + this.#timeouts().idleMs, session.absoluteExpiresAt);
      session.lastSeenAt = now;
      session.idleExpiresAt = Math.max(session.idleExpiresAt, idle);
      this.#store.sessions
        .touch(session.id, now, session.idleExpiresAt, LAST_SEEN_WRITE_INTERVAL_MS)
        .catch(this.#onTouchError);
    }
    return active;
  }

  /** The identity-provider facts of a session, carried over when a step-up replaces it. */
  oidcOf(sessionId: string): Promise<SessionOidc | null> {
    return this.#store.sessions.oidcOf(sessionId);
  }

  /** Ends one session (logout). */
  async end(sessionId: string): Promise<boolean> {
    return this.#store.sessions.revoke(sessionId, this.#clock.now());
  }
}
