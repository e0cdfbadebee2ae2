// Claim resolution with a per-user cache. The cache is only valid together with AuthzFreshness: callers
// refresh it once per request, so a revoked grant, removed membership or disabled user counts at once.
import { claimsInContext } from '../core/claims.ts';
import type { MaybePromise } from '../core/maybe-promise.ts';
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

  /** Sorted claims `userId` holds in `context`; ready at once when cached, read from the store otherwise. */
  claimsFor(userId: string, context: string): MaybePromise<readonly string[]> {
    const entry = this.#cache.get(userId);
    if (entry) return this.#inContext(entry, context);
    return this.#authz.claimGrants(userId).then((grants) => {
      const fresh: Entry = { grants, byContext: new Map() };
      this.#cache.set(userId, fresh);
      return this.#inContext(fresh, context);
    });
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
