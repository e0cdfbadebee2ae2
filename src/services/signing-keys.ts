// Assertion signing keys kept in the store, so every instance and worker publishes the same JWKS and signs with
// the same key: the first key of a deployment (imported from a pre-store data_dir/signing-keys.json, else made),
// and the key ring an instance signs with, re-read on a timer so a rotation reaches it without a restart.
import { generateSigningKey, type KeyFileEntry, SigningKeySet } from '../crypto/signing-keys.ts';
import { newId } from '../crypto/tokens.ts';
import type { Clock } from '../ports/clock.ts';
import type { Store, StoredSigningKey } from '../ports/store.ts';
import { SigningKeySealer } from './signing-key-seal.ts';

/**
 * How often a running instance re-reads the key list. A rotated key signs only from an instant further away
 * than this (KEY_ACTIVATION_DELAY_MS), so every instance publishes it before any instance signs with it.
 */
export const KEY_REFRESH_MS = 15_000;

export interface SigningKeyDeps {
  store: Store;
  clock: Clock;
  /** The server secret: the private halves are sealed under a key derived from it. */
  secret: string;
  /** The keys of data_dir/signing-keys.json (installations from before the store held them), or null. */
  legacyKeys: () => KeyFileEntry[] | null;
}

/** What starting found: keys already stored, keys imported from the old file, or a first key made now. */
export type FirstKeyOutcome = 'present' | 'imported' | 'created';

/**
 * Makes sure the store holds a signing key. Safe when several instances start together on an empty store:
 * the store keeps exactly one first set (addIfEmpty), and every other instance uses that one.
 */
export async function ensureSigningKeys(deps: SigningKeyDeps): Promise<FirstKeyOutcome> {
  if ((await deps.store.signingKeys.list()).length > 0) return 'present';
  const sealer = new SigningKeySealer(deps.secret);
  const now = deps.clock.now();
  const legacy = deps.legacyKeys();
  let keys: StoredSigningKey[];
  if (legacy) {
    // Existing installations keep the keys apps pinned. The file's first key signed, so it gets the latest
    // activation; all of them are active since the oldest file date, long passed on every instance's clock.
    const base = Math.min(now, ...legacy.map((k) => k.createdAt || now));
    keys = legacy.map((k, i) =>
      sealer.seal({
        kid: k.kid,
        createdAt: k.createdAt || now,
        activeFrom: base - i,
        privateJwk: k.privateJwk,
      }),
    );
  } else {
    const { privateJwk } = generateSigningKey();
    keys = [sealer.seal({ kid: newId('key'), createdAt: now, activeFrom: now, privateJwk })];
  }
  if (await deps.store.signingKeys.addIfEmpty(keys)) return legacy ? 'imported' : 'created';
  return 'present';
}

/** The stored keys opened with this secret: throws SigningKeySecretError when one was sealed under another. */
async function readKeys(deps: SigningKeyDeps): Promise<{ set: SigningKeySet; fingerprint: string }> {
  const stored = await deps.store.signingKeys.list();
  if (stored.length === 0) throw new Error('the store holds no signing key');
  const sealer = new SigningKeySealer(deps.secret);
  return {
    set: new SigningKeySet(stored.map((k) => sealer.open(k))),
    fingerprint: stored.map((k) => `${k.kid}@${k.activeFrom}:${k.sealedPrivateJwk}`).join(','),
  };
}

export interface KeyRingEvents {
  /** The key list changed (a rotation or a removal); `kids` are the keys now published. */
  changed?(kids: string[]): void;
  /** A re-read failed; the keys held so far stay in use. */
  refreshFailed?(err: unknown): void;
}

/**
 * The keys one instance publishes and signs with, held in memory: the request path never reads the store.
 * A timer re-reads the list; a failed re-read keeps the keys held (they are all still valid).
 */
export class SigningKeyRing {
  readonly #deps: SigningKeyDeps;
  readonly #events: KeyRingEvents;
  #set: SigningKeySet;
  #fingerprint: string;
  #timer: NodeJS.Timeout | null = null;
  #reading: Promise<void> | null = null;

  private constructor(
    deps: SigningKeyDeps,
    events: KeyRingEvents,
    first: Awaited<ReturnType<typeof readKeys>>,
  ) {
    this.#deps = deps;
    this.#events = events;
    this.#set = first.set;
    this.#fingerprint = first.fingerprint;
  }

  /**
   * Ensures a first key, then opens every stored key. Throws (one line naming the fix) when the keys were
   * sealed under another server secret: this instance would publish and sign with keys the others do not.
   */
  static async open(
    deps: SigningKeyDeps,
    events: KeyRingEvents = {},
  ): Promise<{ ring: SigningKeyRing; outcome: FirstKeyOutcome }> {
    const outcome = await ensureSigningKeys(deps);
    return { ring: new SigningKeyRing(deps, events, await readKeys(deps)), outcome };
  }

  get keys(): SigningKeySet {
    return this.#set;
  }

  /** Reads the key list again; concurrent calls share one read. */
  refresh(): Promise<void> {
    this.#reading ??= this.#read().finally(() => {
      this.#reading = null;
    });
    return this.#reading;
  }

  async #read(): Promise<void> {
    const next = await readKeys(this.#deps);
    if (next.fingerprint === this.#fingerprint) return;
    this.#set = next.set;
    this.#fingerprint = next.fingerprint;
    this.#events.changed?.(next.set.jwks.keys.map((k) => k.kid));
  }

  start(everyMs = KEY_REFRESH_MS): void {
    if (this.#timer) return;
    this.#timer = setInterval(() => {
      this.refresh().catch((err) => this.#events.refreshFailed?.(err));
    }, everyMs);
    this.#timer.unref();
  }

  /** Stops the timer; resolves once a re-read in progress is over (before the store closes). */
  async stop(): Promise<void> {
    if (this.#timer) clearInterval(this.#timer);
    this.#timer = null;
    await this.#reading?.catch(() => {});
  }
}
