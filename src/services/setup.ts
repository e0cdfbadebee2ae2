// First-run setup: while no user exists, a one-time setup link lets the operator create the first admin. One link
// per deployment: every instance that starts while it is live prints the same one.
import { constantTimeEqual } from '../crypto/constant-time.ts';
import { SigningKey } from '../crypto/keys.ts';
import { hashPassword } from '../crypto/password.ts';
import { hashToken, randomSecret } from '../crypto/tokens.ts';
import type { Clock } from '../ports/clock.ts';
import type { Store, User } from '../ports/store.ts';
import { passwordProblem } from './password-policy.ts';
import { checkEmail, checkUsername, createUser, UserInputError } from './users.ts';

export const SETUP_TOKEN_TTL_MS = 24 * 3600_000;

export type SetupResult =
  | { kind: 'ok'; user: User }
  | { kind: 'invalid'; problem: string }
  | { kind: 'gone' };

export class FirstRunSetup {
  readonly #store: Store;
  readonly #clock: Clock;
  readonly #tokens: SigningKey;

  constructor(store: Store, clock: Clock, secret: string) {
    this.#store = store;
    this.#clock = clock;
    this.#tokens = new SigningKey(secret, 'setup-link');
  }

  /**
   * The live setup link's token when no user exists, else null: the one already issued while it is unused and
   * unexpired (so instances starting together, or a restart, print the same link), else a fresh one that
   * replaces the dead ones.
   */
  async issueIfNeeded(): Promise<{ token: string; expiresAt: number } | null> {
    if ((await this.#store.users.count()) > 0) return null;
    const live = await this.#liveLink();
    if (live) return live;
    // A live link from an earlier version (a random token, no nonce) cannot be printed again: replace it.
    await this.#store.oneTimeTokens.deletePurpose('setup');
    return this.#liveLink();
  }

  /** The live link (stored now unless one was), or null when the live one has no nonce to recompute it from. */
  async #liveLink(): Promise<{ token: string; expiresAt: number } | null> {
    const now = this.#clock.now();
    // The token is an HMAC of a stored random nonce under a key derived from the server secret: any instance
    // holding the secret recomputes it from the row, yet the row alone (a copy of the database) does not give
    // it, and only its hash is stored to look it up by.
    const nonce = randomSecret(32);
    const live = await this.#store.oneTimeTokens.issueIfNone(
      {
        tokenHash: hashToken(this.#tokens.sign(nonce)),
        purpose: 'setup',
        userId: null,
        email: null,
        payload: { nonce },
        expiresAt: now + SETUP_TOKEN_TTL_MS,
      },
      now,
    );
    const stored = live.token.payload?.nonce;
    if (typeof stored !== 'string') return null;
    const token = this.#tokens.sign(stored);
    // Same nonce, other token: this instance's secret is not the one that issued the link, and the link it
    // would print could not work.
    if (!constantTimeEqual(hashToken(token), live.tokenHash))
      throw new Error(
        'the setup link in the store was made with another server secret: server.secret must be the same on every instance',
      );
    return { token, expiresAt: live.token.expiresAt };
  }

  /** Whether the token can still create the first admin (GET shows the form without using it up). */
  async usable(token: string): Promise<boolean> {
    if (typeof token !== 'string' || token.length > 128) return false;
    const found = await this.#store.oneTimeTokens.peek(hashToken(token), 'setup', this.#clock.now());
    return found !== null && (await this.#store.users.count()) === 0;
  }

  async complete(
    token: string,
    input: { username: string; email: string; password: string },
    minLength: number,
  ): Promise<SetupResult> {
    if (!(await this.usable(token))) return { kind: 'gone' };
    let username: string;
    let email: string;
    try {
      username = checkUsername(input.username.trim().toLowerCase());
      email = checkEmail(input.email);
    } catch (err) {
      if (err instanceof UserInputError) return { kind: 'invalid', problem: err.message };
      throw err;
    }
    const problem = passwordProblem(input.password, { minLength, username, email });
    if (problem) return { kind: 'invalid', problem };
    // Everything is checked and hashed before the token is used up, so bad input never burns the link.
    const passwordHash = await hashPassword(input.password);
    const consumed = await this.#store.oneTimeTokens.consume(hashToken(token), 'setup', this.#clock.now());
    if (!consumed || (await this.#store.users.count()) > 0) return { kind: 'gone' };
    // The operator typed this address themselves: it counts as confirmed, or they could lock themselves out.
    const user = await createUser(this.#store, {
      username,
      email,
      emailVerified: true,
      admin: true,
      passwordHash,
    });
    return { kind: 'ok', user };
  }
}
