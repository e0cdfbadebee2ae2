// First-run setup: while no user exists, a one-time setup link lets the operator create the first admin.
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

  constructor(store: Store, clock: Clock) {
    this.#store = store;
    this.#clock = clock;
  }

  /**
   * A fresh setup token when no user exists (earlier ones stop working), else null. Only its hash is stored;
   * the token itself goes to the operator's console once.
   */
  async issueIfNeeded(): Promise<string | null> {
    if ((await this.#store.users.count()) > 0) return null;
    await this.#store.oneTimeTokens.deletePurpose('setup');
    const token = randomSecret(32);
    await this.#store.oneTimeTokens.create({
      tokenHash: hashToken(token),
      purpose: 'setup',
      userId: null,
      email: null,
      payload: null,
      expiresAt: this.#clock.now() + SETUP_TOKEN_TTL_MS,
    });
    return token;
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
