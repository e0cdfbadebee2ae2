// A person changing their own second factors: adding an authenticator app or a passkey, renaming, removing,
// and new recovery codes. Each change is audited. Whether the person may change anything right now (a recent
// proof) is the page's to check; whether the last factor may go is decided here, against the operator's rule.
import type { AuditLog } from '../../ports/audit.ts';
import type { Clock } from '../../ports/clock.ts';
import type { Store, User } from '../../ports/store.ts';
import type { Passkeys } from './passkeys.ts';
import type { RecoveryCodes } from './recovery-codes.ts';
import type { SecondFactorSignIn } from './sign-in.ts';
import type { TotpEnrolment, TotpFactors } from './totp.ts';

const NAME_MAX = 60;

/** A name as given, trimmed and cut, or the kind's default. */
export function factorName(raw: string | null, fallback: string): string {
  const name = (raw ?? '').replace(/\s+/g, ' ').trim().slice(0, NAME_MAX);
  return name === '' ? fallback : name;
}

export type Added = { kind: 'ok'; recoveryCodes: string[] | null } | { kind: 'refused' };

export interface OwnFactorsDeps {
  store: Store;
  clock: Clock;
  totp: TotpFactors;
  passkeys: Passkeys;
  recovery: RecoveryCodes;
  signIn: SecondFactorSignIn;
  audit: AuditLog;
}

export class OwnFactors {
  readonly #d: OwnFactorsDeps;

  constructor(deps: OwnFactorsDeps) {
    this.#d = deps;
  }

  beginTotp(user: User): Promise<TotpEnrolment> {
    return this.#d.totp.begin(user, 'Authenticator app');
  }

  /** Finishes an app's enrolment with a right code; the first factor comes with recovery codes. */
  async confirmTotp(user: User, factorId: string, code: string, name: string, ip: string): Promise<Added> {
    if (!(await this.#d.totp.confirm(user, factorId, code))) return { kind: 'refused' };
    await this.#d.store.secondFactors.rename(factorId, user.id, factorName(name, 'Authenticator app'));
    return this.#added(user, 'totp', factorId, ip);
  }

  async addPasskey(user: User, credential: string, name: string, ip: string): Promise<Added> {
    const factor = await this.#d.passkeys.finishRegistration(user, credential, factorName(name, 'Passkey'));
    if (!factor) return { kind: 'refused' };
    return this.#added(user, 'webauthn', factor.id, ip);
  }

  async #added(user: User, kind: string, id: string, ip: string): Promise<Added> {
    this.#d.audit.record({
      action: 'second_factor.add',
      actor: user.username,
      target: user.username,
      ip,
      detail: { kind, factor: id },
    });
    // Codes come with the first factor: whoever can lose a phone needs a way back in.
    if ((await this.#d.recovery.left(user)) > 0) return { kind: 'ok', recoveryCodes: null };
    return { kind: 'ok', recoveryCodes: await this.regenerateRecovery(user, ip) };
  }

  async rename(user: User, factorId: string, name: string, ip: string): Promise<boolean> {
    const ok = await this.#d.store.secondFactors.rename(factorId, user.id, factorName(name, 'Second factor'));
    if (ok)
      this.#d.audit.record({
        action: 'second_factor.rename',
        actor: user.username,
        ip,
        detail: { factor: factorId },
      });
    return ok;
  }

  /**
   * Removes a factor, unless it is the last one and the operator requires one ('required'). Removing the last
   * factor also removes the recovery codes: they stand in for a factor, and there would be none.
   */
  async remove(user: User, factorId: string, ip: string): Promise<'removed' | 'required' | 'unknown'> {
    const confirmed = (await this.#d.store.secondFactors.listForUser(user.id)).filter(
      (f) => f.confirmedAt !== null,
    );
    if (!confirmed.some((f) => f.id === factorId)) return 'unknown';
    if (confirmed.length === 1 && (await this.#d.signIn.required(user))) return 'required';
    if (!(await this.#d.store.secondFactors.remove(factorId, user.id))) return 'unknown';
    if (confirmed.length === 1)
      await this.#d.store.secondFactors.replaceRecoveryCodes(user.id, [], this.#d.clock.now());
    this.#d.audit.record({
      action: 'second_factor.remove',
      actor: user.username,
      target: user.username,
      ip,
      detail: { factor: factorId },
    });
    return 'removed';
  }

  async regenerateRecovery(user: User, ip: string): Promise<string[]> {
    const codes = await this.#d.recovery.regenerate(user);
    this.#d.audit.record({ action: 'recovery_codes.regenerate', actor: user.username, ip });
    return codes;
  }
}
