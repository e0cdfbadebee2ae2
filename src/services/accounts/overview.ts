// What someone's own account page shows about them, read in one place.
import type { ApiToken, Session, User } from '../../core/records.ts';
import type { Clock } from '../../ports/clock.ts';
import type { Store } from '../../ports/store.ts';
import type { AccountAccess } from './access.ts';

export interface AccountOverview {
  sessions: Session[];
  tokens: ApiToken[];
  /** Every claim held, in any context: what a new token may be narrowed to. */
  claims: string[];
  /** Ids of the identity providers the account is linked to. */
  providers: string[];
  hasPassword: boolean;
}

export class AccountOverviews {
  readonly #store: Store;
  readonly #clock: Clock;
  readonly #access: AccountAccess;

  constructor(deps: { store: Store; clock: Clock; access: AccountAccess }) {
    this.#store = deps.store;
    this.#clock = deps.clock;
    this.#access = deps.access;
  }

  async of(user: User): Promise<AccountOverview> {
    const [sessions, tokens, claims, identities, hash] = await Promise.all([
      this.#store.sessions.listActive(user.id, this.#clock.now()),
      this.#store.apiTokens.list(user.id),
      this.#access.heldClaims(user.id),
      this.#store.oidcIdentities.listForUser(user.id),
      this.#store.users.passwordHash(user.id),
    ]);
    return {
      sessions,
      tokens,
      claims,
      providers: [...new Set(identities.map((i) => i.provider))],
      hasPassword: hash !== null,
    };
  }
}
