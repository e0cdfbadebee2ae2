// X-Hero-Assertion: a short-lived JWT (ES256) carrying the same facts as the identity headers, so an app that
// can also be reached another way can verify who a request is from against the gateway's JWKS.

import { amrOf, authMethodLabel } from '../core/amr.ts';
import { BoundedCache } from '../core/bounded-cache.ts';
import type { Principal } from '../core/principal.ts';
import type { SigningKeySet } from '../crypto/signing-keys.ts';
import type { Clock } from '../ports/clock.ts';

export const ASSERTION_LIFETIME_S = 60;
// Reissued once less than half its life is left: an app never receives one about to expire, and signing
// (~50 µs) happens about once per identity and context every 30 s instead of on every request.
const REISSUE_BEFORE_S = ASSERTION_LIFETIME_S / 2;

interface Issued {
  jwt: string;
  exp: number;
}

export class IdentityAssertions {
  /** The keys as this instance holds them now (a rotation swaps the set; the request path reads memory only). */
  readonly #keys: () => SigningKeySet;
  readonly #clock: Clock;
  readonly #issuer: () => string;
  // Keyed by every fact the token states, so a change of claims or email is a different entry.
  readonly #cache = new BoundedCache<string, Issued>(20_000);

  constructor(keys: () => SigningKeySet, clock: Clock, issuer: () => string) {
    this.#keys = keys;
    this.#clock = clock;
    this.#issuer = issuer;
  }

  get jwks() {
    return this.#keys().jwks;
  }

  for(principal: Principal, context: string, claims: readonly string[]): string {
    const { user } = principal;
    const method = authMethodLabel(principal.method, principal.secondFactor);
    const iss = this.#issuer();
    const verified = user.emailVerifiedAt !== null;
    // The label names both factors, so a session that stepped up never gets the one-factor token back.
    const key = `${iss}\0${user.id}\0${user.username}\0${user.email}\0${verified}\0${method}\0${context}\0${claims.join(',')}`;
    const nowMs = this.#clock.now();
    const now = Math.floor(nowMs / 1000);
    const cached = this.#cache.get(key);
    if (cached && cached.exp - now > REISSUE_BEFORE_S) return cached.jwt;
    const exp = now + ASSERTION_LIFETIME_S;
    const jwt = this.#keys().signJwt(
      {
        iss,
        aud: context,
        sub: user.id,
        iat: now,
        exp,
        username: user.username,
        email: user.email,
        email_verified: verified,
        claims,
        auth_method: method,
        // RFC 8176; bearer tokens prove no sign-in factor and carry none.
        ...(principal.method === 'bearer' ? {} : { amr: amrOf(principal.method, principal.secondFactor) }),
      },
      nowMs,
    );
    this.#cache.set(key, { jwt, exp });
    return jwt;
  }
}
