// API tokens, once for every entry point: issuing under the one claim rule (core/account-policy.ts
// tokenClaims), revoking, listing. The plain token leaves here once, in issue's answer; only its hash is kept.
import { tokenClaims } from '../../core/account-policy.ts';
import type { ApiToken, User } from '../../core/records.ts';
import type { AuditLog } from '../../ports/audit.ts';
import type { Clock } from '../../ports/clock.ts';
import type { Store } from '../../ports/store.ts';
import type { ApiTokenService } from '../api-tokens.ts';
import { checkClaims } from '../users.ts';
import type { AccountAccess } from './access.ts';
import { AccountError, type Actor, actorFields } from './actor.ts';

export interface NewTokenRequest {
  name: string;
  /** Narrow the token to these claims; null: as the rule decides (tokenClaims). */
  claims: readonly string[] | null;
  /** Lifetime in ms; null: never expires. */
  lifetimeMs: number | null;
}

export class TokenAccounts {
  readonly #store: Store;
  readonly #clock: Clock;
  readonly #audit: AuditLog;
  readonly #access: AccountAccess;
  readonly #tokens: ApiTokenService;

  constructor(deps: {
    store: Store;
    clock: Clock;
    audit: AuditLog;
    access: AccountAccess;
    tokens: ApiTokenService;
  }) {
    this.#store = deps.store;
    this.#clock = deps.clock;
    this.#audit = deps.audit;
    this.#access = deps.access;
    this.#tokens = deps.tokens;
  }

  /** Tokens of one user, or of everyone; never the tokens themselves. */
  list(userId?: string): Promise<ApiToken[]> {
    return this.#store.apiTokens.list(userId);
  }

  async issue(
    actor: Actor,
    owner: User,
    request: NewTokenRequest,
  ): Promise<{ token: string; record: ApiToken }> {
    const name = request.name.trim();
    if (name === '' || name.length > 64)
      throw new AccountError('invalid_input', 'give the token a name (up to 64 characters)');
    const requested = request.claims === null ? null : checkClaims(request.claims);
    const decision = tokenClaims({
      authority: await this.#access.authority(actor),
      issuerLimited: actor.kind === 'caller' && actor.limited,
      forSelf: actor.kind !== 'operator' && actor.user.id === owner.id,
      requested,
    });
    if (!decision.ok)
      throw new AccountError(
        'forbidden',
        decision.reason === 'not_yours'
          ? 'a token for someone else acts as them: only an account holding every claim may make one'
          : 'a token can only carry claims you hold',
      );
    const now = this.#clock.now();
    const issued = await this.#tokens.issue({
      userId: owner.id,
      name,
      claims: decision.claims,
      expiresAt: request.lifetimeMs === null ? null : now + request.lifetimeMs,
    });
    this.#audit.record({
      action: 'token.create',
      ...actorFields(actor),
      target: issued.record.id,
      detail: {
        user: owner.username,
        name,
        claims: issued.record.claims,
        expires_at: issued.record.expiresAt,
      },
    });
    return issued;
  }

  /**
   * Revokes a token. Someone else's token is answered exactly like an unknown one unless the actor holds
   * every claim. False when it was already revoked.
   */
  async revoke(actor: Actor, id: string): Promise<boolean> {
    const token = await this.#store.apiTokens.byId(id);
    const mine = token !== null && actor.kind !== 'operator' && token.userId === actor.user.id;
    // Someone else's token: the operator, or an API caller holding every claim; never the account page.
    const anyones = actor.kind !== 'owner' && (await this.#access.authority(actor)) === 'all';
    if (!token || (!mine && !anyones)) throw new AccountError('not_found', `no token with id "${id}"`);
    const changed = await this.#store.apiTokens.revoke(id, this.#clock.now());
    if (changed) this.#audit.record({ action: 'token.revoke', ...actorFields(actor), target: id });
    return changed;
  }
}
