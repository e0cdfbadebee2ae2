// The sealed form in which the store keeps an assertion signing key: the private JWK encrypted under a key
// derived from the server secret for this purpose only, bound to its kid.
import { Sealer } from '../crypto/sealed.ts';
import { type Jwk, type OpenedKey, publicJwkOf } from '../crypto/signing-keys.ts';
import type { StoredSigningKey } from '../ports/store.ts';

/** A stored key this process cannot open: it was sealed under another server secret (or altered). */
export class SigningKeySecretError extends Error {
  constructor(kid: string) {
    super(
      `signing key ${kid} in the store was sealed with another server secret: server.secret must be the same ` +
        'on every instance and for every command that uses this store',
    );
    this.name = 'SigningKeySecretError';
  }
}

export class SigningKeySealer {
  readonly #sealer: Sealer;

  constructor(secret: string) {
    this.#sealer = new Sealer(secret, 'signing-keys');
  }

  seal(key: { kid: string; createdAt: number; activeFrom: number; privateJwk: Jwk }): StoredSigningKey {
    return {
      kid: key.kid,
      createdAt: key.createdAt,
      activeFrom: key.activeFrom,
      publicJwk: publicJwkOf(key.privateJwk),
      // The kid is sealed with the key: a sealed private half copied onto another row does not open there.
      sealedPrivateJwk: this.#sealer.seal({ kid: key.kid, jwk: key.privateJwk }),
    };
  }

  /** The private half; throws SigningKeySecretError when this secret cannot open it. */
  open(stored: StoredSigningKey): OpenedKey {
    const sealed = this.#sealer.open(stored.sealedPrivateJwk) as { kid?: unknown; jwk?: Jwk } | null;
    if (!sealed || sealed.kid !== stored.kid || !sealed.jwk) throw new SigningKeySecretError(stored.kid);
    // What is published is derived from the private half: a public column that disagrees with it is refused
    // rather than served, or apps would be told to trust a key nobody signs with.
    const pub = publicJwkOf(sealed.jwk);
    if (pub.x !== stored.publicJwk.x || pub.y !== stored.publicJwk.y)
      throw new Error(
        `signing key ${stored.kid} in the store is damaged: its public half is not its private one's`,
      );
    return { kid: stored.kid, activeFrom: stored.activeFrom, privateJwk: sealed.jwk };
  }
}
