// Claim resolution with a per-user cache. The cache is only valid together with AuthzFreshness: callers
// refresh it once per request, so a revoked grant, removed membership or disabled user counts at once.
import { claimsInContext } from '../core/claims.ts';
import type { MaybePromise } from '../core/maybe-promise.ts';
import type { AuthzStore, ClaimGrant } from '../ports/store.ts';
import { AuthzCache, type AuthzFreshness } from './authz-freshness.ts';

interface Entry {
  grants: readonly ClaimGrant[];
  byContext: Map<string, readonly string[]>;
}

export class ClaimResolver {
  readonly #authz: AuthzStore;
  // Grants read while the authz version moved are used for that one request and not cached (AuthzCache.read).
  readonly #cache: AuthzCache<string, Entry>;

  constructor(authz: AuthzStore, freshness: AuthzFreshness) {
    this.#authz = authz;
    this.#cache = new AuthzCache(freshness, 10_000);
  }

  /** Sorted claims `userId` holds in `context`; ready at once when cached, read from the store otherwise. */
  claimsFor(userId: string, context: string): MaybePromise<readonly string[]> {
    const entry = this.#cache.get(userId);
    if (entry) return this.#inContext(entry, context);
    return this.#cache
      .read(userId, () =>
        this.#authz.claimGrants(userId).then((grants): Entry => ({ grants, byContext: new Map() })),
      )
      .then((fresh) => this.#inContext(fresh, context));
  }

  #inContext(entry: Entry, context: string): readonly string[] {
    let claims = entry.byContext.get(context);
    if (!claims) {
      claims = Object.freeze(claimsInContext(entry.grants, context));
      entry.byContext.set(context, claims);
    }
    return claims;
  }
}
