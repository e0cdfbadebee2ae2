// Claim resolution with a per-user cache. The cache is only valid together with AuthzFreshness: callers
// refresh it once per request, so a revoked grant, removed membership or disabled user counts at once.
import { claimsInContext } from '../core/claims.ts';
import type { AuthzStore, ClaimGrant } from '../ports/store.ts';
import { type AuthzFreshness, BoundedCache } from './authz-freshness.ts';

interface Entry {
  grants: readonly ClaimGrant[];
  byContext: Map<string, readonly string[]>;
}

export class ClaimResolver {
  readonly #authz: AuthzStore;
  readonly #cache = new BoundedCache<string, Entry>(10_000);

  constructor(authz: AuthzStore, freshness: AuthzFreshness) {
    this.#authz = authz;
    freshness.register(this.#cache);
  }

  /** Sorted claims `userId` holds in `context`; grants are read from the store on a cache miss. */
  async claimsFor(userId: string, context: string): Promise<readonly string[]> {
    let entry = this.#cache.get(userId);
    if (!entry) {
      entry = { grants: await this.#authz.claimGrants(userId), byContext: new Map() };
      this.#cache.set(userId, entry);
    }
    let claims = entry.byContext.get(context);
    if (!claims) {
      claims = Object.freeze(claimsInContext(entry.grants, context));
      entry.byContext.set(context, claims);
    }
    return claims;
  }
}
