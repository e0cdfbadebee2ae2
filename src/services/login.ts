// Password sign-in: one answer for every kind of miss, the same work for each, throttled in the store.
import { hashPassword, needsRehash, verifyPassword } from '../crypto/password.ts';
import { randomSecret } from '../crypto/tokens.ts';
import type { Store, User } from '../ports/store.ts';
import { accountKey, type SignInThrottle, type ThrottleSubject } from './throttle.ts';
import { canonicalEmail } from './users.ts';

export type LoginResult =
  /** Right password, account usable. */
  | { kind: 'ok'; user: User }
  /** Unknown account, wrong password, disabled account, no password set: deliberately indistinguishable. */
  | { kind: 'failed' }
  | { kind: 'throttled'; retryAfterMs: number }
  /** Right password, but the address is not confirmed and the config requires it. */
  | { kind: 'unverified'; user: User };

export interface LoginAttempt {
  identifier: string;
  password: string;
  ip: string;
  /** Whether this browser proved an earlier sign-in to `user` (since its password last changed). */
  knownDevice: (user: User) => boolean;
}

export interface LoginOptions {
  requireVerifiedEmail: () => boolean;
  onRehashError?: (err: unknown) => void;
}

/** Usernames and emails as looked up: trimmed, NFKC, lower-case. */
export function canonicalIdentifier(raw: string): string {
  return canonicalEmail(raw);
}

export class PasswordLogin {
  readonly #store: Store;
  readonly #throttle: SignInThrottle;
  readonly #opts: LoginOptions;
  // A real argon2id hash of a random password: unknown accounts are verified against it, so they cost the
  // same time as known ones and response timing does not reveal which usernames exist.
  readonly #dummy: Promise<string>;

  constructor(store: Store, throttle: SignInThrottle, opts: LoginOptions) {
    this.#store = store;
    this.#throttle = throttle;
    this.#opts = opts;
    this.#dummy = hashPassword(randomSecret());
  }

  async attempt(a: LoginAttempt): Promise<LoginResult> {
    const id = canonicalIdentifier(a.identifier);
    const user =
      id === '' || id.length > 254
        ? null
        : id.includes('@')
          ? await this.#store.users.byEmail(id)
          : await this.#store.users.byUsername(id);
    const subject: ThrottleSubject = {
      ip: a.ip,
      account: accountKey(id),
      knownDevice: user !== null && a.knownDevice(user),
    };
    const wait = await this.#throttle.begin(subject);
    if (wait > 0) return { kind: 'throttled', retryAfterMs: wait };

    const stored = user ? await this.#store.users.passwordHash(user.id) : null;
    const matches = await verifyPassword(stored ?? (await this.#dummy), usable(a.password));
    // A disabled account is checked only after the full verification, so it costs what a wrong password costs.
    if (!user || stored === null || !matches || user.disabledAt !== null) return { kind: 'failed' };
    await this.#throttle.succeed(subject);
    if (needsRehash(stored)) {
      // The parameters were raised since this hash was made: upgrade it while we hold the plain password.
      hashPassword(a.password)
        .then((h) => this.#store.users.setPasswordHash(user.id, h, { rehash: true }))
        .catch(this.#opts.onRehashError ?? (() => {}));
    }
    if (this.#opts.requireVerifiedEmail() && user.emailVerifiedAt === null)
      return { kind: 'unverified', user };
    return { kind: 'ok', user };
  }

  /**
   * Checks a user's current password: a signed-in user's (password change), or that of an account whose
   * address is being confirmed from another browser (`signedIn` false: that also counts against the
   * account-wide limit, as a sign-in from a stranger does). Throttled like a sign-in.
   */
  async confirm(
    user: User,
    password: string,
    ip: string,
    signedIn = true,
  ): Promise<'ok' | 'failed' | number> {
    const subject: ThrottleSubject = { ip, account: accountKey(`user:${user.id}`), knownDevice: signedIn };
    const wait = await this.#throttle.begin(subject);
    if (wait > 0) return wait;
    const stored = await this.#store.users.passwordHash(user.id);
    const matches = await verifyPassword(stored ?? (await this.#dummy), usable(password));
    if (stored === null || !matches) return 'failed';
    await this.#throttle.succeed(subject);
    return 'ok';
  }
}

// Lone UTF-16 surrogates cannot be typed and turn into U+FFFD when encoded, so "\ud800" would match a
// password of replacement characters: such input never matches anything.
const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;
const usable = (password: string) => (LONE_SURROGATE.test(password) ? `\u0000${randomSecret()}` : password);
