// Sign-in throttling, kept in the store so it survives restarts and is shared by every process.
//
// Three counters per attempt, each charged BEFORE the password is checked (a burst of parallel guesses is
// counted as it arrives, not after argon2 has let it through), and refunded or cleared on success:
//   ip:<net>                  all attempts from one client network (one attacker, many accounts)
//   account-ip:<acct>|<net>   attempts on one account name from one network (one attacker, one account)
//   account:<acct>            attempts on one account name from anywhere (many networks, one account)
// <acct> is a hash of the name as typed (canonical), for known and unknown accounts alike: the limits say
// nothing about which names exist or which email belongs to which username, and keys stay short.
// <net> is the IPv4 address, or the IPv6 /64 (one customer's allocation: rotating inside it gains nothing).
// The account-wide counter is skipped for a browser that signed in to that account since its password last
// changed (a signed device cookie): a botnet guessing one password slows strangers down, not the owner.
import { createHash } from 'node:crypto';
import { isIPv6 } from 'node:net';
import { BoundedCache } from '../core/bounded-cache.ts';
import { nextThrottleState, type ThrottlePolicy, waitFor } from '../core/throttle.ts';
import type { Clock } from '../ports/clock.ts';
import type { Store, ThrottleState } from '../ports/store.ts';

const MINUTE = 60_000;

export const THROTTLE_POLICIES = {
  ip: { free: 20, baseMs: 2_000, maxMs: 15 * MINUTE, forgetAfterMs: 60 * MINUTE },
  accountIp: { free: 5, baseMs: 2_000, maxMs: 15 * MINUTE, forgetAfterMs: 60 * MINUTE },
  account: { free: 50, baseMs: 2_000, maxMs: 5 * MINUTE, forgetAfterMs: 60 * MINUTE },
} satisfies Record<string, ThrottlePolicy>;

/** The network a client address is counted under: IPv4 as is (also when IPv4-mapped), IPv6 by /64. */
export function throttleNetwork(ip: string): string {
  const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(ip);
  if (mapped) return mapped[1] as string;
  if (!isIPv6(ip)) return ip;
  const [head = '', tail = ''] = ip.toLowerCase().split('::');
  const left = head ? head.split(':') : [];
  const right = tail ? tail.split(':') : [];
  const groups = ip.includes('::')
    ? [...left, ...Array(8 - left.length - right.length).fill('0'), ...right]
    : left;
  return `${groups
    .slice(0, 4)
    .map((g) => g.replace(/^0+(?=.)/, ''))
    .join(':')}::/64`;
}

/** A short, fixed-length name for what was typed, so a 60 kB "username" costs 64 bytes to count. */
export const accountKey = (canonicalName: string) =>
  createHash('sha256').update(canonicalName, 'utf8').digest('hex').slice(0, 32);

export interface ThrottleSubject {
  /** The client address; counted by network (see throttleNetwork). */
  ip: string;
  /** accountKey() of the account name as typed. */
  account: string;
  /** The browser proved an earlier sign-in to this account. */
  knownDevice: boolean;
}

function keysFor(s: ThrottleSubject) {
  const net = throttleNetwork(s.ip);
  return {
    ip: `ip:${net}`,
    accountIp: `account-ip:${s.account}|${net}`,
    account: `account:${s.account}`,
  };
}

/** One attempt fewer: a sign-in that succeeded was not a guess. */
export const refund =
  (policy: ThrottlePolicy) =>
  (prev: ThrottleState | null): ThrottleState => {
    const failures = Math.max(0, (prev?.failures ?? 1) - 1);
    return {
      failures,
      lastFailureAt: prev?.lastFailureAt ?? 0,
      blockedUntil: failures >= policy.free ? (prev?.blockedUntil ?? 0) : 0,
    };
  };

export class SignInThrottle {
  readonly #store: Store;
  readonly #clock: Clock;

  constructor(store: Store, clock: Clock) {
    this.#store = store;
    this.#clock = clock;
  }

  /**
   * Counts this attempt against every limit that applies, atomically, unless one of them already blocks it.
   * Returns the milliseconds to wait (nothing was counted), or 0 (counted; go ahead and check the password).
   */
  async begin(s: ThrottleSubject): Promise<number> {
    const k = keysFor(s);
    const now = this.#clock.now();
    const which = (
      s.knownDevice ? ['ip', 'accountIp'] : ['ip', 'accountIp', 'account']
    ) as (keyof typeof k)[];
    return this.#store.throttles.charge(
      which.map((w) => ({ key: k[w], next: (prev) => nextThrottleState(prev, now, THROTTLE_POLICIES[w]) })),
      now,
    );
  }

  /** After a successful sign-in the account's counters start over, and the network gets its attempt back. */
  async succeed(s: ThrottleSubject): Promise<void> {
    const k = keysFor(s);
    await this.#store.throttles.clear([k.accountIp, k.account]);
    await this.#store.throttles.update(k.ip, refund(THROTTLE_POLICIES.ip));
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
    const now = this.#clock.now();
    return this.#store.throttles.charge(
      [
        {
          key: `mail-ip:${throttleNetwork(ip)}`,
          next: (prev) => nextThrottleState(prev, now, MAIL_POLICIES.ip),
        },
        {
          key: `mail-to:${accountKey(address)}`,
          next: (prev) => nextThrottleState(prev, now, MAIL_POLICIES.address),
        },
      ],
      now,
    );
  }
}

/**
 * Starts of identity-provider sign-ins per client network, counted in memory (per process): each start stores
 * an attempt, so an endless stream of them from one network must not grow the store without bound. Generous,
 * because a whole office behind one address signs in at nine.
 */
export const START_POLICY: ThrottlePolicy = {
  free: 200,
  baseMs: 1_000,
  maxMs: MINUTE,
  forgetAfterMs: 10 * MINUTE,
};

export class MemoryThrottle {
  readonly #clock: Clock;
  readonly #policy: ThrottlePolicy;
  readonly #counters = new BoundedCache<string, ThrottleState>(100_000);

  constructor(clock: Clock, policy: ThrottlePolicy) {
    this.#clock = clock;
    this.#policy = policy;
  }

  /** Counts one more from this client's network; the wait in ms when it is over the limit, else 0. */
  hit(ip: string): number {
    const key = throttleNetwork(ip);
    const now = this.#clock.now();
    const wait = waitFor(this.#counters.get(key), now);
    if (wait === 0)
      this.#counters.set(key, nextThrottleState(this.#counters.get(key) ?? null, now, this.#policy));
    return wait;
  }
}
