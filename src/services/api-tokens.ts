// API tokens: issuing (plain text shown once), verifying a presented token, listing and revoking.

import type { Principal } from '../core/principal.ts';
import { hashToken, looksLikeApiToken, newApiToken } from '../crypto/tokens.ts';
import type { Clock } from '../ports/clock.ts';
import type { ApiToken, Store } from '../ports/store.ts';

/** last_used_at is bookkeeping, not security: one write a minute per token keeps the hot path read-only. */
export const LAST_USED_WRITE_INTERVAL_MS = 60_000;

export class ApiTokenService {
  readonly #store: Store;
  readonly #clock: Clock;
  readonly #onTouchError: (err: unknown) => void;

  constructor(store: Store, clock: Clock, onTouchError: (err: unknown) => void = () => {}) {
    this.#store = store;
    this.#clock = clock;
    this.#onTouchError = onTouchError;
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
  async verify(presented: string): Promise<Principal | null> {
    if (!looksLikeApiToken(presented)) return null;
    const now = this.#clock.now();
    const found = await this.#store.apiTokens.findUsable(hashToken(presented), now);
    if (!found || found.user.disabledAt !== null) return null;
    const last = found.token.lastUsedAt;
    if (last === null || now - last >= LAST_USED_WRITE_INTERVAL_MS) {
      this.#store.apiTokens.touch(found.token.id, now, LAST_USED_WRITE_INTERVAL_MS).catch(this.#onTouchError);
    }
    return { user: found.user, method: 'bearer', claimLimit: found.token.claims };
  }
}
