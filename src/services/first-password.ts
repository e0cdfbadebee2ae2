// A first password for an account that has none (taken over, or created by a mailed link), chosen without a
// current one to prove: only from a session a mailed link started minutes ago.
import type { User } from '../core/records.ts';
import { hashPassword } from '../crypto/password.ts';
import type { AuditLog } from '../ports/audit.ts';
import type { Clock } from '../ports/clock.ts';
import type { Store } from '../ports/store.ts';
import { LINK_TTL_MS } from './one-time-links.ts';
import { passwordProblem } from './password-policy.ts';
import type { ActiveSession } from './sessions.ts';

/** As long as a sign-in link lives: the session proves what such a link proves, no longer. */
export const FIRST_PASSWORD_WINDOW_MS = LINK_TTL_MS.magic_login;

export type FirstPasswordResult =
  | { kind: 'ok'; sessionsEnded: number }
  | { kind: 'invalid'; problem: string }
  | { kind: 'not_allowed' };

export class FirstPassword {
  readonly #store: Store;
  readonly #clock: Clock;
  readonly #audit: AuditLog;

  constructor(deps: { store: Store; clock: Clock; audit: AuditLog }) {
    this.#store = deps.store;
    this.#clock = deps.clock;
    this.#audit = deps.audit;
  }

  /**
   * Whether this session may set the account's first password. A session a mailed link started minutes ago
   * proves control of the inbox right now, which is all "Forgot your password?" would prove; an older session
   * (a borrowed laptop, a stolen cookie) or one from a provider proves neither, and an account that has a
   * password changes it only with the current one.
   */
  async allowed(active: ActiveSession): Promise<boolean> {
    const { session, user } = active;
    if (session.authMethod !== 'magic_link') return false;
    if (this.#clock.now() - session.createdAt > FIRST_PASSWORD_WINDOW_MS) return false;
    return (await this.#store.users.passwordHash(user.id)) === null;
  }

  /** Sets the first password and ends the user's other sessions in the same step. */
  async choose(
    active: ActiveSession,
    password: string,
    minLength: number,
    ip: string | null,
  ): Promise<FirstPasswordResult> {
    if (!(await this.allowed(active))) return { kind: 'not_allowed' };
    const { user, session } = active;
    const problem = passwordProblem(password, { minLength, username: user.username, email: user.email });
    if (problem)
      return { kind: 'invalid', problem: `${problem.charAt(0).toUpperCase()}${problem.slice(1)}.` };
    const hash = await hashPassword(password);
    const sessionsEnded = await this.#store.users.setPasswordHash(user.id, hash, {
      endSessions: { now: this.#clock.now(), except: session.id },
    });
    this.#record(user, ip, sessionsEnded);
    return { kind: 'ok', sessionsEnded };
  }

  #record(user: User, ip: string | null, sessionsEnded: number): void {
    this.#audit.record({
      action: 'password.change',
      actor: user.username,
      target: user.username,
      ip,
      detail: { first: true, sessions_ended: sessionsEnded },
    });
  }
}
