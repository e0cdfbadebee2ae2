// API tokens: issuing (plain text shown once), verifying a presented token, listing and revoking.

import type { MaybePromise } from '../core/maybe-promise.ts';
import type { Principal } from '../core/principal.ts';
import { hashToken, looksLikeApiToken, newApiToken } from '../crypto/tokens.ts';
import type { Clock } from '../ports/clock.ts';
import type { ApiToken, Store, User } from '../ports/store.ts';
import { AuthzCache, type AuthzFreshness } from './authz-freshness.ts';

/** last_used_at is bookkeeping, not security: one write a minute per token keeps the hot path read-only. */
export const LAST_USED_WRITE_INTERVAL_MS = 60_000;

export interface ApiTokenServiceOptions {
  /** With it, verified tokens are cached until any authz change (revocation included) in any process. */
  freshness?: AuthzFreshness;
  onTouchError?: (err: unknown) => void;
}

export class ApiTokenService {
  readonly #store: Store;
  readonly #clock: Clock;
  readonly #onTouchError: (err: unknown) => void;
  // Keyed by SHA-256 of the token, never by the token itself. A lookup the authz version overtook (a revocation
  // while it was read) answers its one request and is not cached (AuthzCache.read).
  readonly #cache: AuthzCache<string, { token: ApiToken; user: User }> | null;

  constructor(store: Store, clock: Clock, opts: ApiTokenServiceOptions = {}) {
    this.#store = store;
    this.#clock = clock;
    this.#onTouchError = opts.onTouchError ?? (() => {});
    this.#cache = opts.freshness ? new AuthzCache(opts.freshness, 10_000) : null;
  }

  async issue(input: {
    userId: string;
    name: string;
    claims: string[] | null;
    expiresAt: number | null;
  }): Promise<{ token: string; record: ApiToken }> {
    const token = newApiToken();
    const record = await this.#store.apiTokens.create({ ...input, tokenHash: hashToken(token) });
    return { token, record };
  }

  /**
   * The principal behind a presented token, or null. Unknown, malformed, revoked, expired tokens and disabled
   * owners are all just null, so callers cannot answer them differently. The lookup is by SHA-256 of the
   * token: timing of the index search reveals nothing about any stored token.
   */
  verify(presented: string): MaybePromise<Principal | null> {
    if (!looksLikeApiToken(presented)) return null;
    const now = this.#clock.now();
    const hash = hashToken(presented);
    const cached = this.#cache?.get(hash);
    if (cached) return this.#admit(cached, now);
    const lookup = () => this.#store.apiTokens.findUsable(hash, now);
    return (this.#cache ? this.#cache.read(hash, lookup) : lookup()).then(
      (found) => found && this.#admit(found, now),
    );
  }

  #admit(found: { token: ApiToken; user: User }, now: number): Principal | null {
    const { token, user } = found;
    if ((token.expiresAt !== null && token.expiresAt <= now) || user.disabledAt !== null) return null;
    if (token.lastUsedAt === null || now - token.lastUsedAt >= LAST_USED_WRITE_INTERVAL_MS) {
      token.lastUsedAt = now; // our cached copy: the next write is due a minute from now
      this.#store.apiTokens.touch(token.id, now, LAST_USED_WRITE_INTERVAL_MS).catch(this.#onTouchError);
    }
    return { user, method: 'bearer', secondFactor: null, claimLimit: token.claims };
  }
}
