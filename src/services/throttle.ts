// Sign-in throttling, kept in the store so it survives restarts and is shared by every process.
//
// Three counters per attempt:
//   ip:<addr>                 all failures from one client address (one attacker, many accounts)
//   account-ip:<acct>|<addr>  failures for one account from one address (one attacker, one account)
//   account:<acct>            failures for one account from anywhere (many addresses, one account)
// The account-wide counter is skipped for a browser that has signed in to that account before (a signed
// device cookie): a botnet guessing one password can then slow strangers down but never lock the owner out.
import { nextThrottleState, type ThrottlePolicy, waitFor } from '../core/throttle.ts';
import type { Clock } from '../ports/clock.ts';
import type { Store } from '../ports/store.ts';

const MINUTE = 60_000;

export const THROTTLE_POLICIES = {
  ip: { free: 20, baseMs: 2_000, maxMs: 15 * MINUTE, forgetAfterMs: 60 * MINUTE },
  accountIp: { free: 5, baseMs: 2_000, maxMs: 15 * MINUTE, forgetAfterMs: 60 * MINUTE },
  account: { free: 50, baseMs: 2_000, maxMs: 5 * MINUTE, forgetAfterMs: 60 * MINUTE },
} satisfies Record<string, ThrottlePolicy>;

export interface ThrottleSubject {
  ip: string;
  /** A stable name for the account tried: the user id when it exists, else the canonical identifier. */
  account: string;
  /** The browser proved an earlier sign-in to this account. */
  knownDevice: boolean;
}

function keysFor(s: ThrottleSubject) {
  return {
    ip: `ip:${s.ip}`,
    accountIp: `account-ip:${s.account}|${s.ip}`,
    account: `account:${s.account}`,
  };
}

export class SignInThrottle {
  readonly #store: Store;
  readonly #clock: Clock;

  constructor(store: Store, clock: Clock) {
    this.#store = store;
    this.#clock = clock;
  }

  /** Milliseconds this attempt must wait; 0 when it may go ahead. */
  async wait(s: ThrottleSubject): Promise<number> {
    const k = keysFor(s);
    const keys = s.knownDevice ? [k.ip, k.accountIp] : [k.ip, k.accountIp, k.account];
    const states = await this.#store.throttles.get(keys);
    const now = this.#clock.now();
    return Math.max(0, ...keys.map((key) => waitFor(states.get(key), now)));
  }

  async fail(s: ThrottleSubject): Promise<void> {
    const k = keysFor(s);
    const now = this.#clock.now();
    await Promise.all(
      (Object.keys(k) as (keyof typeof k)[]).map((which) =>
        this.#store.throttles.fail(k[which], now, (prev) =>
          nextThrottleState(prev, now, THROTTLE_POLICIES[which]),
        ),
      ),
    );
  }

  /** After a successful sign-in the account's counters start over; the address's does not. */
  async succeed(s: ThrottleSubject): Promise<void> {
    const k = keysFor(s);
    await this.#store.throttles.clear([k.accountIp, k.account]);
  }
}

/**
 * Requests that send mail (forgot, magic link, register, resend) cost the target's inbox and our reputation:
 * a few per address and a few dozen per client address an hour, then exponential waits.
 */
export const MAIL_POLICIES = {
  address: { free: 5, baseMs: 60_000, maxMs: 60 * MINUTE, forgetAfterMs: 60 * MINUTE },
  ip: { free: 30, baseMs: 60_000, maxMs: 60 * MINUTE, forgetAfterMs: 60 * MINUTE },
} satisfies Record<string, ThrottlePolicy>;

export class MailThrottle {
  readonly #store: Store;
  readonly #clock: Clock;

  constructor(store: Store, clock: Clock) {
    this.#store = store;
    this.#clock = clock;
  }

  /**
   * Counts one mail-sending request for the client and the (canonical) address, whether or not an account
   * has it: the limit answers the same for every address. Milliseconds to wait, or 0 to go ahead.
   */
  async hit(ip: string, address: string): Promise<number> {
    const keys = { ip: `mail-ip:${ip}`, address: `mail-to:${address}` };
    const now = this.#clock.now();
    const states = await this.#store.throttles.get([keys.ip, keys.address]);
    const wait = Math.max(waitFor(states.get(keys.ip), now), waitFor(states.get(keys.address), now));
    if (wait > 0) return wait;
    await this.#store.throttles.fail(keys.ip, now, (prev) => nextThrottleState(prev, now, MAIL_POLICIES.ip));
    await this.#store.throttles.fail(keys.address, now, (prev) =>
      nextThrottleState(prev, now, MAIL_POLICIES.address),
    );
    return 0;
  }
}
