// The second step of a sign-in: whether one is needed, the half-signed-in state between the two, and checking
// what the person offers (a code from their app, a passkey, a recovery code), throttled like passwords.
//
// The half-signed-in state is a one-time token (`mfa_pending`, SHA-256 at rest) in a host-only cookie: no
// session exists until the second factor passes, so nothing a route, an app or the account page accepts can
// be obtained with the first factor alone. It names the user, how the first factor was proved and where to go.
import { hasSecondFactor, type SecondFactorMethod } from '../../core/amr.ts';
import type { AuthMethod } from '../../core/principal.ts';
import { nextThrottleState, type ThrottlePolicy } from '../../core/throttle.ts';
import { hashToken, randomSecret } from '../../crypto/tokens.ts';
import type { Clock } from '../../ports/clock.ts';
import type { SecondFactor, SessionOidc, Store, ThrottleCharge, User } from '../../ports/store.ts';
import type { ClaimResolver } from '../claims.ts';
import type { OneTimeLinks } from '../one-time-links.ts';
import { refund, throttleNetwork } from '../throttle.ts';
import type { Passkeys, PasskeyUse } from './passkeys.ts';
import type { RecoveryCodes } from './recovery-codes.ts';
import type { TotpFactors } from './totp.ts';

const MINUTE = 60_000;
/** Long enough to find the phone; short enough that a forgotten tab holds nothing for long. */
export const PENDING_TTL_MS = 10 * MINUTE;
const PENDING_TOKEN = /^[A-Za-z0-9_-]{43}$/;

// A right password is already behind every attempt counted here, so the account's limit is what matters: five
// tries, then waits from 30 s doubling to 15 min — a 6-digit code (three valid at a time) cannot be guessed.
export const CODE_POLICIES = {
  account: { free: 5, baseMs: 30_000, maxMs: 15 * MINUTE, forgetAfterMs: 60 * MINUTE },
  ip: { free: 20, baseMs: 2_000, maxMs: 15 * MINUTE, forgetAfterMs: 60 * MINUTE },
} satisfies Record<string, ThrottlePolicy>;

export type SecondFactorPolicy = 'optional' | 'required_for_admins' | 'required';

/** A sign-in waiting for its second factor. */
export interface PendingSignIn {
  user: User;
  method: AuthMethod;
  /** Where the sign-in was going (validated when the sign-in began). */
  returnTo: string;
  oidc: SessionOidc | null;
}

/** What the person can offer: the challenge page shows exactly these. */
export interface FactorsAvailable {
  totp: boolean;
  passkey: boolean;
  recovery: boolean;
}

export type FactorCheck =
  | { kind: 'ok'; factor: SecondFactorMethod }
  | { kind: 'failed' }
  | { kind: 'throttled'; retryAfterMs: number };

export interface SecondFactorSignInDeps {
  store: Store;
  clock: Clock;
  totp: TotpFactors;
  recovery: RecoveryCodes;
  passkeys: Passkeys;
  claims: ClaimResolver;
  links: OneTimeLinks;
  policy: () => SecondFactorPolicy;
}

export class SecondFactorSignIn {
  readonly #d: SecondFactorSignInDeps;

  constructor(deps: SecondFactorSignInDeps) {
    this.#d = deps;
  }

  /** The user's factors that count (enrolment finished), oldest first. */
  async list(user: User): Promise<SecondFactor[]> {
    return (await this.#d.store.secondFactors.listForUser(user.id)).filter((f) => f.confirmedAt !== null);
  }

  recoveryLeft(user: User): Promise<number> {
    return this.#d.recovery.left(user);
  }

  async available(user: User): Promise<FactorsAvailable> {
    const factors = await this.list(user);
    return {
      totp: factors.some((f) => f.kind === 'totp'),
      passkey: factors.some((f) => f.kind === 'webauthn'),
      recovery: factors.length > 0 && (await this.#d.recovery.left(user)) > 0,
    };
  }

  /** Whether the operator requires this user to have a second factor. */
  async required(user: User): Promise<boolean> {
    const policy = this.#d.policy();
    if (policy === 'required') return true;
    if (policy === 'optional') return false;
    // Administrators: whoever holds any of the gateway's own rights anywhere.
    const held = await this.#d.claims.claimsFor(user.id, '');
    return held.some((c) => c.startsWith('gateway.'));
  }

  /**
   * Whether a session is less than this account now needs: it passed no second factor, while the account has
   * one or must have one. Such a session may still browse, but not mint tokens (which skip the second factor)
   * or change factors with the password alone.
   */
  async fallsShort(
    user: User,
    session: { authMethod: string; secondFactor: string | null },
  ): Promise<boolean> {
    if (hasSecondFactor(session.authMethod, session.secondFactor)) return false;
    return (await this.needed(user)) !== null;
  }

  /**
   * After a first factor: 'challenge' when the user has a second one (whatever the first was: a reset or a
   * mailed link never skips it), 'enrol' when they must have one and have none, null to sign in at once.
   */
  async needed(user: User): Promise<'challenge' | 'enrol' | null> {
    const has = await this.available(user);
    if (has.totp || has.passkey) return 'challenge';
    return (await this.required(user)) ? 'enrol' : null;
  }

  /** Holds a sign-in until its second factor; the token is for the cookie, only its hash is stored. */
  async hold(p: PendingSignIn): Promise<string> {
    const token = randomSecret(32);
    await this.#d.store.oneTimeTokens.create({
      tokenHash: hashToken(token),
      purpose: 'mfa_pending',
      userId: p.user.id,
      email: null,
      payload: { method: p.method, returnTo: p.returnTo, oidc: p.oidc },
      expiresAt: this.#d.clock.now() + PENDING_TTL_MS,
    });
    return token;
  }

  /** The sign-in a cookie holds, without using it up; null when gone, expired, or its user is disabled or gone. */
  pending(token: string | null): Promise<PendingSignIn | null> {
    return this.#read(token, false);
  }

  /** Uses the held sign-in up (the second factor passed): of concurrent callers exactly one gets it. */
  release(token: string | null): Promise<PendingSignIn | null> {
    return this.#read(token, true);
  }

  async #read(token: string | null, consume: boolean): Promise<PendingSignIn | null> {
    if (token === null || !PENDING_TOKEN.test(token)) return null;
    const { oneTimeTokens, users } = this.#d.store;
    const now = this.#d.clock.now();
    const held = consume
      ? await oneTimeTokens.consume(hashToken(token), 'mfa_pending', now)
      : await oneTimeTokens.peek(hashToken(token), 'mfa_pending', now);
    if (!held?.userId || !held.payload) return null;
    const user = await users.byId(held.userId);
    if (!user || user.disabledAt !== null) return null;
    const p = held.payload as { method: AuthMethod; returnTo: string; oidc: SessionOidc | null };
    return { user, method: p.method, returnTo: p.returnTo, oidc: p.oidc ?? null };
  }

  /** Drops a held sign-in (cancelled). */
  async drop(token: string | null): Promise<void> {
    if (token !== null && PENDING_TOKEN.test(token))
      await this.#d.store.oneTimeTokens.consume(hashToken(token), 'mfa_pending', this.#d.clock.now());
  }

  /** A code from the user's authenticator app. */
  code(user: User, code: string, ip: string): Promise<FactorCheck> {
    return this.#throttled(user, ip, async () => ((await this.#d.totp.verify(user, code)) ? 'totp' : null));
  }

  /** A recovery code: used up, and the owner is told by mail (someone else may hold their codes). */
  recoveryCode(user: User, code: string, ip: string): Promise<FactorCheck> {
    return this.#throttled(user, ip, async () => {
      if (!(await this.#d.recovery.use(user, code))) return null;
      const left = await this.#d.recovery.left(user);
      await this.#d.links.notify('recovery_code_used', user.email, {
        link: this.#d.links.url('/account/security'),
        username: user.username,
        left,
      });
      return 'recovery_code';
    });
  }

  /** A passkey or security key answering the challenge the page handed out. */
  passkey(user: User, response: string, ip: string): Promise<FactorCheck> {
    // Counted per network only: a signature cannot be guessed, and the account's count is what someone holding
    // the password can run up with wrong codes — it must not keep the owner's passkey out too.
    return this.#throttled(
      user,
      ip,
      async () => {
        const use: PasskeyUse | null = await this.#d.passkeys.verifyAuthentication(response, user);
        return use ? 'passkey' : null;
      },
      false,
    );
  }

  /**
   * "Sign in with a passkey": the passkey names the account and is both factors (it verified the user). Counted
   * per network, like a password guess; a disabled account's passkey signs no one in.
   */
  async passkeySignIn(
    response: string,
    ip: string,
  ): Promise<{ kind: 'ok'; user: User } | { kind: 'failed' } | { kind: 'throttled'; retryAfterMs: number }> {
    const now = this.#d.clock.now();
    const key = `mfa-ip:${throttleNetwork(ip)}`;
    const wait = await this.#d.store.throttles.charge(
      [{ key, next: (prev) => nextThrottleState(prev, now, CODE_POLICIES.ip) }],
      now,
    );
    if (wait > 0) return { kind: 'throttled', retryAfterMs: wait };
    const use = await this.#d.passkeys.verifyAuthentication(response, null);
    const user = use ? await this.#d.store.users.byId(use.factor.userId) : null;
    if (!user || user.disabledAt !== null) return { kind: 'failed' };
    // A sign-in that succeeded was not a guess: the network gets its attempt back (an office behind one
    // address signs in all day).
    await this.#d.store.throttles.update(key, refund(CODE_POLICIES.ip));
    return { kind: 'ok', user };
  }

  /**
   * Counts the attempt before checking it (parallel guesses are counted as they arrive), per account and per
   * network (`perAccount` false: per network alone); a right answer clears the account's count.
   */
  async #throttled(
    user: User,
    ip: string,
    check: () => Promise<SecondFactorMethod | null>,
    perAccount = true,
  ): Promise<FactorCheck> {
    const now = this.#d.clock.now();
    const keys = { account: `mfa-account:${user.id}`, ip: `mfa-ip:${throttleNetwork(ip)}` };
    const charges: ThrottleCharge[] = [
      { key: keys.ip, next: (prev) => nextThrottleState(prev, now, CODE_POLICIES.ip) },
    ];
    if (perAccount)
      charges.push({
        key: keys.account,
        next: (prev) => nextThrottleState(prev, now, CODE_POLICIES.account),
      });
    const wait = await this.#d.store.throttles.charge(charges, now);
    if (wait > 0) return { kind: 'throttled', retryAfterMs: wait };
    const factor = await check();
    if (factor === null) return { kind: 'failed' };
    await this.#d.store.throttles.clear([keys.account]);
    await this.#d.store.throttles.update(keys.ip, refund(CODE_POLICIES.ip));
    return { kind: 'ok', factor };
  }
}
