// Claim resolution with a per-user cache that is dropped whenever the store's authz version moves,
// so a revoked grant, removed membership or disabled user counts on the very next request.
import { claimsInContext } from '../core/claims.ts';
import type { AuthzStore, ClaimGrant } from '../ports/store.ts';

interface Entry {
  grants: readonly ClaimGrant[];
  byContext: Map<string, readonly string[]>;
}

const MAX_USERS = 10_000;

export class ClaimResolver {
  readonly #authz: AuthzStore;
  #version = -1;
  #cache = new Map<string, Entry>();

  constructor(authz: AuthzStore) {
    this.#authz = authz;
  }

  /** Sorted claims `userId` holds in `context`. One cheap version read per call; grants read on a miss. */
  async claimsFor(userId: string, context: string): Promise<readonly string[]> {
    const version = await this.#authz.version();
    if (version !== this.#version) {
      this.#cache.clear();
      this.#version = version;
    }
    let entry = this.#cache.get(userId);
    if (!entry) {
      entry = { grants: await this.#authz.claimGrants(userId), byContext: new Map() };
      if (this.#cache.size >= MAX_USERS) this.#cache.clear();
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
