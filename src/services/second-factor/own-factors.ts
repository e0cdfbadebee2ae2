// A person changing their own second factors: adding an authenticator app or a passkey, renaming, removing,
// and new recovery codes. Each change is audited, and adding or removing a factor is mailed to the account's
// address (whoever made it, the owner learns of it), as are new recovery codes. Adding one signs out every other
// session and ends API tokens minted before any factor: a cookie copied or a token made with the password alone
// would otherwise keep one-factor access to an account that now asks for two. Whether the person may
// change anything right now (a recent proof) is the page's to check; whether the last factor may go is
// decided here, against the operator's rule.
import type { AuditLog } from '../../ports/audit.ts';
import type { Clock } from '../../ports/clock.ts';
import type { Store, User } from '../../ports/store.ts';
import type { OneTimeLinks } from '../one-time-links.ts';
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
  links: OneTimeLinks;
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

  /**
   * A new app enrolment. The user's unfinished ones go first: one at a time, so setting up again and again
   * (or a stale form's unknown factor id) cannot grow the table.
   */
  async beginTotp(user: User): Promise<TotpEnrolment> {
    const { secondFactors } = this.#d.store;
    for (const f of await secondFactors.listForUser(user.id))
      if (f.kind === 'totp' && f.confirmedAt === null) await secondFactors.remove(f.id, user.id);
    return this.#d.totp.begin(user, 'Authenticator app');
  }

  /**
   * Finishes an app's enrolment with a right code; the first factor comes with recovery codes. `keep`: the
   * session making the change (null: a sign-in held for its factor, which has none yet).
   */
  async confirmTotp(
    user: User,
    factorId: string,
    code: string,
    name: string,
    at: { ip: string; keep: string | null },
  ): Promise<Added> {
    if (!(await this.#d.totp.confirm(user, factorId, code))) return { kind: 'refused' };
    const named = factorName(name, 'Authenticator app');
    await this.#d.store.secondFactors.rename(factorId, user.id, named);
    return this.#added(user, 'totp', factorId, named, at);
  }

  async addPasskey(
    user: User,
    credential: string,
    name: string,
    at: { ip: string; keep: string | null },
  ): Promise<Added> {
    const named = factorName(name, 'Passkey');
    const factor = await this.#d.passkeys.finishRegistration(user, credential, named);
    if (!factor) return { kind: 'refused' };
    return this.#added(user, 'webauthn', factor.id, named, at);
  }

  async #added(
    user: User,
    kind: string,
    id: string,
    name: string,
    at: { ip: string; keep: string | null },
  ): Promise<Added> {
    const now = this.#d.clock.now();
    const ended = await this.#d.store.sessions.revokeAllForUser(user.id, now, at.keep ?? undefined);
    const tokens = await this.#revokeOneFactorTokens(user, now);
    this.#d.audit.record({
      action: 'second_factor.add',
      actor: user.username,
      target: user.username,
      ip: at.ip,
      detail: { kind, factor: id, sessions_ended: ended, tokens_revoked: tokens },
    });
    await this.#notify(user, 'second_factor_added', name, tokens);
    // Codes come with the first factor: whoever can lose a phone needs a way back in.
    if ((await this.#d.recovery.left(user)) > 0) return { kind: 'ok', recoveryCodes: null };
    return { kind: 'ok', recoveryCodes: await this.#newRecovery(user, at.ip) };
  }

  /**
   * API tokens made before the account's oldest factor was confirmed were minted by a session that proved one
   * factor (a session falling short may not mint), perhaps by whoever had the password, and a token skips
   * the second factor on every route: they end with the first factor. Judged by times, not by "is this the
   * first", so two enrolments at once cannot both think another one was first.
   */
  async #revokeOneFactorTokens(user: User, now: number): Promise<number> {
    const { store } = this.#d;
    const confirmed = (await store.secondFactors.listForUser(user.id))
      .map((f) => f.confirmedAt)
      .filter((t) => t !== null);
    if (confirmed.length === 0) return 0;
    const oldest = Math.min(...confirmed);
    let revoked = 0;
    for (const t of await store.apiTokens.list(user.id))
      if (t.revokedAt === null && t.createdAt <= oldest && (await store.apiTokens.revoke(t.id, now)))
        revoked++;
    return revoked;
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
    await this.#notify(user, 'second_factor_removed', confirmed.find((f) => f.id === factorId)?.name ?? '');
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

  async #notify(
    user: User,
    template: 'second_factor_added' | 'second_factor_removed' | 'recovery_codes_regenerated',
    factor = '',
    tokens = 0,
  ) {
    await this.#d.links.notify(template, user.email, {
      link: this.#d.links.url('/account/security'),
      username: user.username,
      factor,
      tokens,
    });
  }

  /** New recovery codes; the old ones stop working. */
  async regenerateRecovery(user: User, ip: string): Promise<string[]> {
    const codes = await this.#newRecovery(user, ip);
    // Mailed: new codes void the owner's and are a way past the factor; whoever made them, the owner learns.
    await this.#notify(user, 'recovery_codes_regenerated');
    return codes;
  }

  async #newRecovery(user: User, ip: string): Promise<string[]> {
    const codes = await this.#d.recovery.regenerate(user);
    this.#d.audit.record({ action: 'recovery_codes.regenerate', actor: user.username, ip });
    return codes;
  }
}
