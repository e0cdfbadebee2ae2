// Deliberately broken variants of a store, kept only so the race tests can prove they would notice:
// each replaces one atomic operation with the read-then-write a hurried rewrite might produce. Never used by
// the gateway; the race tests run against them and must go red (test/store/race.test.ts).
import type { OneTimeTokenStore, SigningKeyStore, Store, ThrottleStore } from '../../src/ports/store.ts';

/**
 * The gap between the read and the write: one round trip of a networked database. Without it the window of
 * a select-then-update inside an embedded, synchronous driver is microseconds wide and caught only sometimes.
 */
const roundTrip = () => new Promise((resolve) => setTimeout(resolve, 1));

export type StoreVariant = 'real' | 'naive-consume' | 'racy-throttle' | 'racy-first-key' | 'racy-single-link';

export function storeVariant(store: Store, variant: StoreVariant): Store {
  if (variant === 'naive-consume') return { ...store, oneTimeTokens: naiveConsume(store.oneTimeTokens) };
  if (variant === 'racy-throttle') return { ...store, throttles: racyThrottle(store.throttles) };
  if (variant === 'racy-first-key') return { ...store, signingKeys: racyFirstKey(store.signingKeys) };
  if (variant === 'racy-single-link') return { ...store, oneTimeTokens: racySingleLink(store.oneTimeTokens) };
  return store;
}

/** Look whether the store is empty, then add: every contender that looked before the first add adds its own. */
function racyFirstKey(real: SigningKeyStore): SigningKeyStore {
  return {
    ...real,
    async addIfEmpty(keys) {
      if ((await real.list()).length > 0) return false;
      await roundTrip();
      for (const k of keys) await real.add(k);
      return true;
    },
  };
}

/** What every start did before links were shared: drop the earlier link, store its own. */
function racySingleLink(real: OneTimeTokenStore): OneTimeTokenStore {
  return {
    ...real,
    async issueIfNone(token, now) {
      await real.deletePurpose(token.purpose);
      await roundTrip();
      await real.create(token);
      const stored = await real.peek(token.tokenHash, token.purpose, now);
      return { tokenHash: token.tokenHash, token: stored ?? { ...token, createdAt: now }, issued: true };
    },
  };
}

/** Select, then update: whoever read the token unconsumed believes it won, whatever the update did. */
function naiveConsume(real: OneTimeTokenStore): OneTimeTokenStore {
  return {
    ...real,
    async consume(hash, purpose, now) {
      const found = await real.peek(hash, purpose, now);
      if (!found) return null;
      await roundTrip();
      await real.consume(hash, purpose, now); // marks it used; the result is (wrongly) not looked at
      return found;
    },
  };
}

/** Read the counters, then write what was computed from that read, in separate steps (no transaction). */
function racyThrottle(real: ThrottleStore): ThrottleStore {
  return {
    ...real,
    async charge(charges, now) {
      const seen = await real.get(charges.map((c) => c.key));
      const wait = Math.max(
        0,
        ...[...seen.values()].map((s) => (s.blockedUntil > now ? s.blockedUntil - now : 0)),
      );
      if (wait > 0) return wait;
      await roundTrip();
      for (const c of charges) {
        const state = c.next(seen.get(c.key) ?? null);
        await real.update(c.key, () => state);
      }
      return 0;
    },
    async update(key, next) {
      const state = next((await real.get([key])).get(key) ?? null);
      await roundTrip();
      await real.update(key, () => state);
      return state;
    },
  };
}
