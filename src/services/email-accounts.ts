// The account flows that go through an inbox: registration, confirming an address, password reset, sign-in
// links and invites. Every answer a stranger can see is the same whatever accounts exist; what differs goes
// to the address's owner by mail.
import { hashPassword } from '../crypto/password.ts';
import { randomSecret } from '../crypto/tokens.ts';
import type { Clock } from '../ports/clock.ts';
import type { OneTimePurpose, OwnershipReset, Store, User } from '../ports/store.ts';
import { StoreConflictError } from '../ports/store.ts';
import { judgeOwnership, type OwnershipClaim } from './address-ownership.ts';
import type { OneTimeLinks } from './one-time-links.ts';
import { passwordProblem } from './password-policy.ts';
import { canonicalEmail, checkEmail, checkUsername, isEmailAddress, UserInputError } from './users.ts';

export type FlowResult<T = User> =
  | { kind: 'ok'; value: T }
  | { kind: 'invalid'; problem: string }
  | { kind: 'gone' };

/** A user signed in by a mailed link, where they were going, and what a takeover removed (null: none). */
export interface LinkSignIn {
  user: User;
  returnTo: string;
  reset: OwnershipReset | null;
}

export type ConfirmOutcome =
  | ({ kind: 'ok'; kept: 'already_confirmed' | 'same_browser' | 'password' | null } & LinkSignIn)
  /** The link is good but the confirmer must prove the password or choose to take the account over. */
  | { kind: 'ask' | 'wrong_password'; user: User }
  | { kind: 'throttled'; retryAfterMs: number }
  | { kind: 'gone' };

const sentence = (s: string) => {
  const t = s.charAt(0).toUpperCase() + s.slice(1);
  return t.endsWith('.') ? t : `${t}.`;
};

export class EmailAccounts {
  readonly #store: Store;
  readonly #clock: Clock;
  readonly #links: OneTimeLinks;

  constructor(store: Store, clock: Clock, links: OneTimeLinks) {
    this.#store = store;
    this.#clock = clock;
    this.#links = links;
  }

  /**
   * A new, unconfirmed account and its confirmation mail. An address that already has an account gets the
   * same result on screen, after the same work, and its owner gets a mail saying so. The value is the new
   * account, or null for a taken address: for the page to bind this browser to the password it chose, never
   * to show.
   */
  async register(
    input: { username: string; email: string; password: string },
    minLength: number,
    returnTo = '',
  ): Promise<FlowResult<User | null>> {
    let username: string;
    let email: string;
    try {
      username = checkUsername(input.username.trim().toLowerCase());
      email = checkEmail(input.email);
    } catch (err) {
      if (err instanceof UserInputError) return { kind: 'invalid', problem: sentence(err.message) };
      throw err;
    }
    const problem = passwordProblem(input.password, { minLength, username, email });
    if (problem) return { kind: 'invalid', problem: sentence(problem) };
    // The username first: whether it is taken says nothing about the address, whatever address is sent.
    if (await this.#store.users.byUsername(username))
      return { kind: 'invalid', problem: 'That username is taken; choose another.' };
    // Hashed before looking the address up, so a taken address costs the same time as a new one.
    const passwordHash = await hashPassword(input.password);
    const existing = await this.#store.users.byEmail(email);
    if (existing) return this.#alreadyRegistered(existing);
    let user: User;
    try {
      user = await this.#store.users.create({ username, email, emailVerified: false, passwordHash });
    } catch (err) {
      if (!(err instanceof StoreConflictError)) throw err;
      const raced = await this.#store.users.byEmail(email);
      if (raced) return this.#alreadyRegistered(raced);
      return { kind: 'invalid', problem: 'That username is taken; choose another.' };
    }
    await this.sendVerification(user, returnTo);
    return { kind: 'ok', value: user };
  }

  async #alreadyRegistered(owner: User): Promise<FlowResult<null>> {
    await this.#links.notify('already_registered', owner.email, {
      link: this.#links.url('/forgot'),
      username: owner.username,
    });
    return { kind: 'ok', value: null };
  }

  /** Mails a confirmation link; following it returns to `returnTo` (already validated) when given. */
  sendVerification(user: User, returnTo = ''): Promise<void> {
    return this.#links.send(
      'verify_email',
      { userId: user.id, email: user.email, username: user.username },
      returnTo ? { return_to: returnTo } : null,
    );
  }

  /** Whose address a confirmation link is for, while it can still be used (the GET page picks its form). */
  async verifyLinkOwner(token: unknown): Promise<User | null> {
    const t = await this.#links.peek(token, 'verify_email');
    const user = t?.userId ? await this.#store.users.byId(t.userId) : null;
    return t && user && user.email === t.email && user.disabledAt === null ? user : null;
  }

  /**
   * Confirms the address a link was sent to. The account keeps its password only when the confirmer shows
   * they set or know it; one who chooses to take it over gets it without anything set before (see
   * address-ownership.ts). The link is used up only when the address is confirmed: a wrong password leaves it.
   */
  async confirmAddress(token: unknown, claim: OwnershipClaim): Promise<ConfirmOutcome> {
    const owner = await this.verifyLinkOwner(token);
    if (!owner) return { kind: 'gone' };
    const judged = await judgeOwnership(owner, claim);
    if (judged.kind === 'ask' || judged.kind === 'wrong_password') return { kind: judged.kind, user: owner };
    if (judged.kind === 'throttled') return judged;
    const t = await this.#links.consume(token, 'verify_email');
    const user = t?.userId === owner.id ? await this.#store.users.byId(owner.id) : null;
    // The address changed since the mail was sent: the link confirmed an address the account no longer has.
    if (!t || !user || user.email !== t.email || user.disabledAt !== null) return { kind: 'gone' };
    const now = this.#clock.now();
    const returnTo = typeof t.payload?.return_to === 'string' ? t.payload.return_to : '';
    // Confirmed meanwhile (by another link of the same inbox): nothing left to take over.
    if (judged.kind === 'take_over' && user.emailVerifiedAt === null) {
      const reset = await this.#store.users.resetOwnership(user.id, now);
      return { kind: 'ok', kept: null, reset, returnTo, user: await this.#fresh(user) };
    }
    await this.#store.users.markEmailVerified(user.id, now);
    const kept = judged.kind === 'keep' ? judged.because : 'already_confirmed';
    return { kind: 'ok', kept, reset: null, returnTo, user: await this.#fresh(user) };
  }

  async #fresh(user: User): Promise<User> {
    return (await this.#store.users.byId(user.id)) ?? user;
  }

  /** Mails a reset link if the username or address names a usable account; says nothing either way. */
  async forgot(identifier: string): Promise<void> {
    const user = await this.#lookup(identifier);
    if (user && user.disabledAt === null)
      await this.#links.send('reset_password', {
        userId: user.id,
        email: user.email,
        username: user.username,
      });
  }

  /**
   * Mails a sign-in link to an account that may sign in; with open registration, also to a new address (the
   * account is created when the link is confirmed). Says nothing either way.
   */
  async requestMagicLink(rawEmail: string, returnTo: string, openRegistration: boolean): Promise<void> {
    const email = canonicalEmail(rawEmail);
    const user = await this.#store.users.byEmail(email);
    if (user && user.disabledAt === null)
      await this.#links.send(
        'magic_login',
        { userId: user.id, email, username: user.username },
        { return_to: returnTo },
      );
    else if (!user && openRegistration && isEmailAddress(email))
      await this.#links.send('magic_login', { userId: null, email }, { return_to: returnTo });
  }

  /**
   * Uses a sign-in link: the user (created now for a new address) and where to return. `openRegistration`
   * is read when the link is used, so closing registration also voids links that would create accounts.
   */
  async confirmMagicLink(token: unknown, openRegistration: boolean): Promise<LinkSignIn | null> {
    const t = await this.#links.consume(token, 'magic_login');
    if (!t || t.email === null) return null;
    const returnTo = typeof t.payload?.return_to === 'string' ? t.payload.return_to : '';
    let user = t.userId ? await this.#store.users.byId(t.userId) : await this.#store.users.byEmail(t.email);
    if (!user && !t.userId && openRegistration) user = await this.#createFromEmail(t.email);
    if (!user || user.email !== t.email || user.disabledAt !== null) return null;
    const now = this.#clock.now();
    if (user.emailVerifiedAt === null) {
      // Whoever set this account's password or linked a provider to it never proved the address (anyone can
      // register any address, and some providers vouch for none): the address's owner, proving it now, takes
      // the account over without any of it.
      const reset = await this.#store.users.resetOwnership(user.id, now);
      return { user: await this.#fresh(user), returnTo, reset };
    }
    return { user, returnTo, reset: null };
  }

  async #createFromEmail(email: string): Promise<User | null> {
    const base =
      (email.split('@')[0] ?? '')
        .toLowerCase()
        .replace(/[^a-z0-9._-]/g, '')
        .replace(/^[._-]+/, '')
        .slice(0, 40) || 'user';
    // The plain name, a few numbered ones, then random suffixes: squatted names cannot block a sign-up.
    const candidates = [base, ...[2, 3, 4, 5].map((i) => `${base}${i}`)];
    for (let i = 0; i < 5; i++)
      candidates.push(
        `${base}-${randomSecret(4)
          .toLowerCase()
          .replace(/[^a-z0-9]/g, 'x')}`,
      );
    for (const username of candidates) {
      try {
        return await this.#store.users.create({ username, email, emailVerified: true });
      } catch (err) {
        if (!(err instanceof StoreConflictError)) throw err;
        if (err.field === 'email') return this.#store.users.byEmail(email);
      }
    }
    return null;
  }

  /** Mails an invited user their set-password link. */
  invite(user: User): Promise<void> {
    return this.#links.send('invite', { userId: user.id, email: user.email, username: user.username });
  }

  /** The link if it can still be used (GET pages show, never consume). */
  linkUsable(token: unknown, purpose: OneTimePurpose) {
    return this.#links.peek(token, purpose);
  }

  /** Whose account a reset or invite link is for (to show on the form), if the link is still good. */
  async linkOwner(token: unknown, purpose: 'reset_password' | 'invite'): Promise<User | null> {
    const t = await this.#links.peek(token, purpose);
    return t?.userId ? this.#store.users.byId(t.userId) : null;
  }

  /**
   * Sets a password through a reset or invite link. The policy is checked and the hash made before the link
   * is used up, so a refused password does not burn it; then the link is consumed (once, atomically), the
   * password set and the address marked confirmed (the mail reached it).
   */
  async setPasswordByLink(
    token: unknown,
    purpose: Extract<OneTimePurpose, 'reset_password' | 'invite'>,
    password: string,
    minLength: number,
  ): Promise<FlowResult<{ user: User; reset: OwnershipReset | null }>> {
    const owner = await this.linkOwner(token, purpose);
    if (!owner || owner.disabledAt !== null) return { kind: 'gone' };
    const problem = passwordProblem(password, { minLength, username: owner.username, email: owner.email });
    if (problem) return { kind: 'invalid', problem: sentence(problem) };
    const hash = await hashPassword(password);
    const t = await this.#links.consume(token, purpose);
    if (!t || t.userId !== owner.id) return { kind: 'gone' };
    const now = this.#clock.now();
    // A reset link proves the address, not the old password: on an account nobody had confirmed, provider
    // links, tokens and sessions someone else may have set go too, not just the password. (An invite is an
    // operator's account for that address: nothing on it was set by a stranger.)
    const reset =
      purpose === 'reset_password' && owner.emailVerifiedAt === null
        ? await this.#store.users.resetOwnership(owner.id, now)
        : null;
    // A reset means the old password may be known to someone else: every session ends with it.
    await this.#store.users.setPasswordHash(owner.id, hash, { endSessions: { now } });
    await this.#store.users.markEmailVerified(owner.id, now);
    return { kind: 'ok', value: { user: owner, reset } };
  }

  async #lookup(identifier: string): Promise<User | null> {
    const id = canonicalEmail(identifier);
    if (id === '' || id.length > 254) return null;
    return id.includes('@') ? this.#store.users.byEmail(id) : this.#store.users.byUsername(id);
  }
}
