// Account changes, once for every entry point (account page, admin API, CLI): create or invite, set the
// password, change the address, disable or enable, delete, mail a reset link. Each checks the actor may,
// applies the change in one store call and audits it.
import { ADMIN_CLAIM } from '../../core/account-policy.ts';
import type { User } from '../../core/records.ts';
import { hashPassword } from '../../crypto/password.ts';
import type { AuditLog } from '../../ports/audit.ts';
import type { Clock } from '../../ports/clock.ts';
import { type Store, StoreConflictError } from '../../ports/store.ts';
import { checkEmail, checkPassword, checkUsername, createUser } from '../users.ts';
import type { AccountAccess } from './access.ts';
import { AccountError, type Actor, actorFields } from './actor.ts';

/** The mail an account change sends (queued through the outbox). */
export interface AccountMail {
  invite(user: User): Promise<void>;
  forgot(username: string): Promise<void>;
}

export interface UserAccountsDeps {
  store: Store;
  clock: Clock;
  audit: AuditLog;
  access: AccountAccess;
  mail: AccountMail;
  /** Read at each use, so a reload applies. */
  passwordMinLength: () => number;
}

export interface NewAccount {
  username: string;
  email: string;
  admin: boolean;
  /** A first password; null for none (a provider, a sign-in link or an invite sets it later). */
  password: string | null;
  /** Mail a set-password link; the address counts as confirmed only when it is followed. */
  invite: boolean;
}

export class UserAccounts {
  readonly #d: UserAccountsDeps;

  constructor(deps: UserAccountsDeps) {
    this.#d = deps;
  }

  list(): Promise<User[]> {
    return this.#d.store.users.list();
  }

  byId(id: string): Promise<User | null> {
    return this.#d.store.users.byId(id);
  }

  byName(username: string): Promise<User | null> {
    return this.#d.store.users.byUsername(username);
  }

  /** The user, or AccountError not_found naming them. */
  async require(username: string): Promise<User> {
    const user = await this.byName(username);
    if (!user) throw new AccountError('not_found', `no user named "${username}"`);
    return user;
  }

  /**
   * Everything that can refuse a new account before any password is asked for or hashed: the names' form,
   * whether they are taken, and whether the actor may make an admin. Returns the canonical address.
   */
  async checkNew(actor: Actor, input: { username: string; email: string; admin: boolean }): Promise<string> {
    // Making someone an admin is granting gateway.admin: only an actor holding every claim may.
    if (input.admin && (await this.#d.access.authority(actor)) !== 'all')
      throw new AccountError('forbidden', `only an account holding ${ADMIN_CLAIM} may make an admin`);
    const email = checkEmail(input.email);
    checkUsername(input.username);
    if (await this.#d.store.users.byUsername(input.username))
      throw new AccountError('invalid_input', `username ${input.username} is already taken`);
    if (await this.#d.store.users.byEmail(email))
      throw new AccountError('invalid_input', `email ${email} is already used`);
    return email;
  }

  async create(actor: Actor, input: NewAccount): Promise<User> {
    if (input.invite && input.password !== null)
      throw new AccountError('invalid_input', 'invite and password exclude each other');
    const email = await this.checkNew(actor, input);
    if (input.password !== null)
      checkPassword(input.password, {
        minLength: this.#d.passwordMinLength(),
        username: input.username,
        email,
      });
    const user = await createUser(this.#d.store, {
      username: input.username,
      email,
      // An operator vouches for the address; an invited user confirms it by following the mailed link.
      emailVerified: !input.invite,
      admin: input.admin,
      ...(input.password !== null ? { passwordHash: await hashPassword(input.password) } : {}),
    });
    if (input.invite) await this.#d.mail.invite(user);
    this.#d.audit.record({
      action: input.invite ? 'invite.send' : 'user.create',
      ...actorFields(actor),
      target: user.username,
      detail: { admin: input.admin },
    });
    return user;
  }

  /** Throws unless the actor may change `target` (AccountError forbidden or not_found). */
  requireManage(actor: Actor, target: User): Promise<void> {
    return this.#d.access.requireManage(actor, target);
  }

  /** Throws the policy's one-line reason (invalid_input) when `password` may not be the target's. */
  checkPassword(target: User, password: string): void {
    checkPassword(password, {
      minLength: this.#d.passwordMinLength(),
      username: target.username,
      email: target.email,
    });
  }

  /**
   * A new password, ending the user's sessions in the same transaction (on their own account page, all but
   * the one they use): whoever signed in with the old password is out. Returns how many sessions ended.
   * A proof of the current password, where one is needed, is the caller's to check first.
   */
  async setPassword(actor: Actor, target: User, password: string): Promise<{ sessionsEnded: number }> {
    await this.#d.access.requireManage(actor, target);
    this.checkPassword(target, password);
    const hash = await hashPassword(password);
    const except = actor.kind === 'owner' ? actor.sessionId : undefined;
    const sessionsEnded = await this.#d.store.users.setPasswordHash(target.id, hash, {
      endSessions: { now: this.#d.clock.now(), ...(except ? { except } : {}) },
    });
    this.#d.audit.record({
      action: actor.kind === 'owner' ? 'password.change' : 'user.password',
      ...actorFields(actor),
      target: target.username,
      detail: { sessions_ended: sessionsEnded },
    });
    return { sessionsEnded };
  }

  /** A new address an operator vouches for: it counts as confirmed; links mailed to the old one die. */
  async setEmail(actor: Actor, target: User, rawEmail: string): Promise<User> {
    await this.#d.access.requireManage(actor, target);
    const email = checkEmail(rawEmail);
    try {
      await this.#d.store.users.setEmail(target.id, email);
    } catch (err) {
      if (err instanceof StoreConflictError)
        throw new AccountError('invalid_input', `email ${email} is already used`);
      throw err;
    }
    this.#d.audit.record({ action: 'user.email', ...actorFields(actor), target: target.username });
    return (await this.byId(target.id)) ?? target;
  }

  /** Disabling ends every session and voids the user's links in the same transaction (store rule). */
  async setDisabled(actor: Actor, target: User, disabled: boolean): Promise<void> {
    await this.#d.access.requireManage(actor, target);
    await this.#d.store.users.setDisabled(target.id, disabled ? this.#d.clock.now() : null);
    this.#d.audit.record({
      action: disabled ? 'user.disable' : 'user.enable',
      ...actorFields(actor),
      target: target.username,
    });
  }

  /** The user and everything they own (sessions, tokens, grants, links). False when already gone. */
  async delete(actor: Actor, target: User): Promise<boolean> {
    await this.#d.access.requireManage(actor, target);
    if (!(await this.#d.store.users.delete(target.id))) return false;
    this.#d.audit.record({ action: 'user.delete', ...actorFields(actor), target: target.username });
    return true;
  }

  /** Mails the user a password-reset link (nothing for a disabled account). */
  async sendPasswordReset(actor: Actor, target: User): Promise<void> {
    await this.#d.access.requireManage(actor, target);
    await this.#d.mail.forgot(target.username);
    this.#d.audit.record({
      action: 'user.password',
      ...actorFields(actor),
      target: target.username,
      detail: { reset_mail: true },
    });
  }
}
