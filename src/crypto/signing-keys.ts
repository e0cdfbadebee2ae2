// Keys that sign X-Hero-Assertion: ES256 (P-256). A key set publishes every key it holds and signs with the
// newest one whose activation instant has passed, so a key can be published everywhere before anyone signs
// with it. Where keys are kept (the store, the private half sealed) is the services' business, not this file's.
import { createPrivateKey, createPublicKey, generateKeyPairSync, type KeyObject, sign } from 'node:crypto';

/** A JSON Web Key as plain strings (EC P-256: kty, crv, x, y and, for a private key, d). */
export type Jwk = Record<string, string>;

export interface PublicJwk {
  kty: string;
  crv: string;
  x: string;
  y: string;
  kid: string;
  alg: 'ES256';
  use: 'sig';
}

/** A key as the pre-store data_dir/signing-keys.json held it, in clear. */
export interface KeyFileEntry {
  kid: string;
  createdAt: number;
  privateJwk: Jwk;
}

/** A key whose private half this process holds. */
export interface OpenedKey {
  kid: string;
  /** From this instant on it may sign; before it, it is only published. */
  activeFrom: number;
  privateJwk: Jwk;
}

/** A new P-256 key pair as JWKs. */
export function generateSigningKey(): { publicJwk: Jwk; privateJwk: Jwk } {
  const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  return {
    publicJwk: publicKey.export({ format: 'jwk' }) as Jwk,
    privateJwk: privateKey.export({ format: 'jwk' }) as Jwk,
  };
}

/** The public half of a private JWK; throws when it is not an EC P-256 private key. */
export function publicJwkOf(privateJwk: Jwk): Jwk {
  const key = createPrivateKey({ key: privateJwk, format: 'jwk' });
  if (key.asymmetricKeyType !== 'ec' || key.asymmetricKeyDetails?.namedCurve !== 'prime256v1')
    throw new Error('not an EC P-256 key');
  const pub = createPublicKey(key).export({ format: 'jwk' }) as Jwk;
  return { kty: 'EC', crv: 'P-256', x: pub.x as string, y: pub.y as string };
}

/**
 * Of keys with activation instants, the one that signs at `now`: the newest already active. If none is yet (this
 * clock runs behind the one that made the very first key), the earliest: every instance published it first.
 */
export function signingKeyAt<K extends { kid: string; activeFrom: number }>(
  keys: readonly K[],
  now: number,
): K {
  let active: K | undefined;
  let earliest: K | undefined;
  for (const k of keys) {
    if (k.activeFrom <= now && (!active || newer(k, active))) active = k;
    if (!earliest || newer(earliest, k)) earliest = k;
  }
  const chosen = active ?? earliest;
  if (!chosen) throw new Error('no signing key');
  return chosen;
}

// Ties (two keys activated in the same millisecond) are broken by kid, so every instance picks the same one.
const newer = (a: { kid: string; activeFrom: number }, b: { kid: string; activeFrom: number }) =>
  a.activeFrom > b.activeFrom || (a.activeFrom === b.activeFrom && a.kid > b.kid);

interface SigningEntry {
  kid: string;
  activeFrom: number;
  key: KeyObject;
}

export class SigningKeySet {
  readonly jwks: { keys: PublicJwk[] };
  readonly #entries: SigningEntry[];

  constructor(keys: readonly OpenedKey[]) {
    if (keys.length === 0) throw new Error('no signing key');
    this.#entries = keys.map((k) => ({
      kid: k.kid,
      activeFrom: k.activeFrom,
      key: createPrivateKey({ key: k.privateJwk, format: 'jwk' }),
    }));
    // Every key held is published, also one that signs only later: an app that fetches the JWKS now can
    // verify what any instance signs until the next rotation.
    this.jwks = {
      keys: [...keys]
        .sort((a, b) => a.activeFrom - b.activeFrom)
        .map((k) => {
          const { x, y } = publicJwkOf(k.privateJwk);
          return {
            kty: 'EC',
            crv: 'P-256',
            x: x as string,
            y: y as string,
            kid: k.kid,
            alg: 'ES256',
            use: 'sig',
          };
        }),
    };
  }

  /** The id of the key that signs at `now`. */
  signingKid(now: number): string {
    return signingKeyAt(this.#entries, now).kid;
  }

  /**
   * A compact JWS (ES256) over `claims`, signed with the key active at `now`. Built with node:crypto rather than
   * jose because it runs on the request path and jose only signs asynchronously; verification (apps, tests)
   * uses jose.
   */
  signJwt(claims: Record<string, unknown>, now: number): string {
    const active = signingKeyAt(this.#entries, now);
    const header = { alg: 'ES256', typ: 'JWT', kid: active.kid };
    const input = `${b64(JSON.stringify(header))}.${b64(JSON.stringify(claims))}`;
    // JOSE wants the raw r||s form, not DER.
    const signature = sign('sha256', Buffer.from(input), { key: active.key, dsaEncoding: 'ieee-p1363' });
    return `${input}.${signature.toString('base64url')}`;
  }
}

const b64 = (s: string) => Buffer.from(s, 'utf8').toString('base64url');
