// Operating the assertion signing keys (`hero-gateway keys list|rotate|remove`): a rotation adds a key that
// every instance publishes first and signs with only from a later instant; a key is removed only once nothing
// it signed can still be presented.
import { generateSigningKey, signingKeyAt } from '../crypto/signing-keys.ts';
import { newId } from '../crypto/tokens.ts';
import type { StoredSigningKey } from '../ports/store.ts';
import { ASSERTION_LIFETIME_S } from './assertions.ts';
import { SigningKeySealer } from './signing-key-seal.ts';
import { ensureSigningKeys, KEY_REFRESH_MS, type SigningKeyDeps } from './signing-keys.ts';

/**
 * A rotated key signs from this long after the rotation. Longer than KEY_REFRESH_MS, so every running instance
 * publishes it before any signs with it; and long enough that an app which fetched the JWKS just before the
 * instances did may fetch it again (jose refetches an unknown kid after a 30 s cooldown).
 */
export const KEY_ACTIVATION_DELAY_MS = 60_000;
/**
 * A key that stopped signing stays until this long after: assertions it signed are valid for
 * ASSERTION_LIFETIME_S, and an instance that could not re-read the list may sign with it a little longer.
 */
export const KEY_RETIRE_GRACE_MS = ASSERTION_LIFETIME_S * 1000 + KEY_REFRESH_MS;

export interface SigningKeyView {
  kid: string;
  createdAt: number;
  activeFrom: number;
  /** signing: signs now; next: published, signs from activeFrom; retired: only published. */
  status: 'signing' | 'next' | 'retired';
  /** When `keys remove` accepts it (retired keys only), else null. */
  removableFrom: number | null;
}

/** An operation refused by the rules above; the message says why and what to do. */
export class SigningKeyRefused extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'SigningKeyRefused';
  }
}

/** Each key's status at `now`, earliest activation first. */
export function describeKeys(keys: readonly StoredSigningKey[], now: number): SigningKeyView[] {
  const signing = keys.length > 0 ? signingKeyAt(keys, now) : null;
  const sorted = [...keys].sort((a, b) => a.activeFrom - b.activeFrom || (a.kid < b.kid ? -1 : 1));
  return sorted.map((k, i) => {
    const status = k === signing ? 'signing' : k.activeFrom > now ? 'next' : 'retired';
    // It stopped signing when the key after it started.
    const successor = sorted[i + 1];
    const removableFrom =
      status === 'retired' && successor ? successor.activeFrom + KEY_RETIRE_GRACE_MS : null;
    return { kid: k.kid, createdAt: k.createdAt, activeFrom: k.activeFrom, status, removableFrom };
  });
}

/** As SigningKeyDeps, but the secret is read only by what needs it (a listing does not). */
export interface KeyAdminDeps extends Omit<SigningKeyDeps, 'secret'> {
  secret: () => string;
}

export class SigningKeyAdmin {
  readonly #deps: KeyAdminDeps;

  constructor(deps: KeyAdminDeps) {
    this.#deps = deps;
  }

  async list(): Promise<SigningKeyView[]> {
    return describeKeys(await this.#deps.store.signingKeys.list(), this.#deps.clock.now());
  }

  /**
   * Adds a key that signs from KEY_ACTIVATION_DELAY_MS on. Returns it, and the key signing until then with the
   * instant `keys remove` will accept it.
   */
  async rotate(): Promise<{ added: SigningKeyView; current: SigningKeyView & { removableFrom: number } }> {
    const { store, clock } = this.#deps;
    const secret = this.#deps.secret();
    // A key file not yet imported is imported first: the new key goes in front of the pinned ones.
    await ensureSigningKeys({ ...this.#deps, secret });
    const sealer = new SigningKeySealer(secret);
    // Proof that this secret is the deployment's: a key sealed under another one would open nowhere.
    const existing = await store.signingKeys.list();
    for (const k of existing) sealer.open(k);
    const now = clock.now();
    const { privateJwk } = generateSigningKey();
    const added = sealer.seal({
      kid: newId('key'),
      createdAt: now,
      activeFrom: now + KEY_ACTIVATION_DELAY_MS,
      privateJwk,
    });
    await store.signingKeys.add(added);
    const currentKid = signingKeyAt(existing, now).kid;
    const nowViews = describeKeys([...existing, added], now);
    // Seen from when the new key signs, the current one is retired, with the instant it may go.
    const laterViews = describeKeys([...existing, added], added.activeFrom);
    const current = nowViews.find((v) => v.kid === currentKid) as SigningKeyView;
    const removableFrom = laterViews.find((v) => v.kid === currentKid)?.removableFrom ?? added.activeFrom;
    return {
      added: nowViews.find((v) => v.kid === added.kid) as SigningKeyView,
      current: { ...current, removableFrom },
    };
  }

  /** Removes a retired key whose assertions have all expired; refuses any other with SigningKeyRefused. */
  async remove(kid: string): Promise<SigningKeyView> {
    const now = this.#deps.clock.now();
    const views = await this.list();
    const key = views.find((v) => v.kid === kid);
    if (!key) throw new SigningKeyRefused(`no signing key "${kid}" (see hero-gateway keys list)`);
    if (views.length === 1)
      throw new SigningKeyRefused(`${kid} is the only signing key: run hero-gateway keys rotate first`);
    if (key.status === 'signing')
      throw new SigningKeyRefused(
        `${kid} signs assertions now: run hero-gateway keys rotate, then remove it once the new key signs`,
      );
    // An instance that has not re-read the list since a removal would still sign with it at its activation,
    // while the others no longer publish it: it stays until another key has taken over.
    if (key.status === 'next')
      throw new SigningKeyRefused(
        `${kid} becomes the signing key at ${iso(key.activeFrom)}: rotate again and remove it once the newer key signs`,
      );
    if (key.removableFrom !== null && key.removableFrom > now)
      throw new SigningKeyRefused(
        `assertions signed by ${kid} may still be presented: remove it from ${iso(key.removableFrom)} on`,
      );
    await this.#deps.store.signingKeys.remove(kid);
    return key;
  }
}

const iso = (ms: number) => new Date(ms).toISOString().replace(/\.\d{3}Z$/, 'Z');
