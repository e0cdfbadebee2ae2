// An actor's authority over accounts, read from the store: what the pure rules in core/account-policy.ts
// are applied to.
import { type Authority, authorityOf, mayManage } from '../../core/account-policy.ts';
import type { User } from '../../core/records.ts';
import type { Store } from '../../ports/store.ts';
import { AccountError, type Actor } from './actor.ts';

export class AccountAccess {
  readonly #store: Store;

  constructor(store: Store) {
    // The store, not store.authz: an unmigrated store (the `migrate` command's) opens its tables on use only.
    this.#store = store;
  }

  /** Every claim the user holds, in any context, sorted. */
  async heldClaims(userId: string): Promise<string[]> {
    return [...new Set((await this.#store.authz.claimGrants(userId)).map((g) => g.claim))].sort();
  }

  async authority(actor: Actor): Promise<Authority> {
    if (actor.kind === 'operator') return 'all';
    if (actor.kind === 'caller') return authorityOf(actor.claims);
    // The account page acts as its owner, never as an admin: exactly the claims held (gateway.admin held there,
    // perhaps in one context only, reaches no one else's tokens and names no claim the owner lacks).
    return new Set(await this.heldClaims(actor.user.id));
  }

  /** Throws unless the actor may change `target` (its owner always may, on their own account page). */
  async requireManage(actor: Actor, target: User): Promise<void> {
    if (actor.kind === 'owner') {
      // The account page acts only on the account signed in; anyone else's is answered as unknown.
      if (actor.user.id !== target.id) throw new AccountError('not_found', 'no such account');
      return;
    }
    if (!mayManage(await this.authority(actor), await this.heldClaims(target.id)))
      throw new AccountError('forbidden', `${target.username} holds claims you do not hold`);
  }
}
