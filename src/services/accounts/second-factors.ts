// An administrator's view and reset of a user's second factors, for every entry point (CLI, admin API): the
// reset is for a user who lost their phone and key, and needs the same right as any change to that account.
import type { User } from '../../core/records.ts';
import type { AuditLog } from '../../ports/audit.ts';
import type { SecondFactor, Store } from '../../ports/store.ts';
import type { AccountAccess } from './access.ts';
import { type Actor, actorFields } from './actor.ts';

export interface SecondFactorOverview {
  factors: SecondFactor[];
  recoveryCodesLeft: number;
}

export class SecondFactorAccounts {
  readonly #store: Store;
  readonly #audit: AuditLog;
  readonly #access: AccountAccess;

  constructor(deps: { store: Store; audit: AuditLog; access: AccountAccess }) {
    this.#store = deps.store;
    this.#audit = deps.audit;
    this.#access = deps.access;
  }

  async list(target: User): Promise<SecondFactorOverview> {
    const [factors, recoveryCodesLeft] = await Promise.all([
      this.#store.secondFactors.listForUser(target.id),
      this.#store.secondFactors.recoveryCodesLeft(target.id),
    ]);
    return { factors, recoveryCodesLeft };
  }

  /** Removes every factor and recovery code of the user; returns how many factors went. */
  async reset(actor: Actor, target: User): Promise<number> {
    await this.#access.requireManage(actor, target);
    const removed = await this.#store.secondFactors.removeAllForUser(target.id);
    this.#audit.record({
      action: 'second_factor.reset',
      ...actorFields(actor),
      target: target.username,
      detail: { second_factors_removed: removed },
    });
    return removed;
  }
}
