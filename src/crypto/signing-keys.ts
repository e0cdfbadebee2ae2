// Keys that sign X-Hero-Assertion: ES256 (P-256), kept as a list in data_dir/signing-keys.json (mode 0600).
// The first key signs; every key in the list is published in the JWKS, so rotation is adding a key in
// front and removing the old one after the longest assertion lifetime.
import { createPrivateKey, createPublicKey, generateKeyPairSync, type KeyObject, sign } from 'node:crypto';
import { chmodSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { newId } from './tokens.ts';

interface StoredKey {
  kid: string;
  createdAt: number;
  /** Private JWK (kty EC, crv P-256). */
  jwk: Record<string, string>;
}

export interface PublicJwk {
  kty: string;
  crv: string;
  x: string;
  y: string;
  kid: string;
  alg: 'ES256';
  use: 'sig';
}

export class SigningKeys {
  readonly #active: { kid: string; key: KeyObject };
  readonly jwks: { keys: PublicJwk[] };

  constructor(stored: StoredKey[]) {
    const first = stored[0];
    if (!first) throw new Error('no signing key');
    this.#active = { kid: first.kid, key: createPrivateKey({ key: first.jwk, format: 'jwk' }) };
    this.jwks = {
      keys: stored.map((k) => {
        const pub = createPublicKey({ key: k.jwk, format: 'jwk' }).export({ format: 'jwk' }) as Record<
          string,
          string
        >;
        return {
          kty: 'EC',
          crv: 'P-256',
          x: pub.x as string,
          y: pub.y as string,
          kid: k.kid,
          alg: 'ES256',
          use: 'sig',
        };
      }),
    };
  }

  /**
   * A compact JWS (ES256) over `claims`. Built with node:crypto rather than jose because it runs on the
   * request path and jose only signs asynchronously; verification (apps, tests) uses jose.
   */
  signJwt(claims: Record<string, unknown>): string {
    const header = { alg: 'ES256', typ: 'JWT', kid: this.#active.kid };
    const input = `${b64(JSON.stringify(header))}.${b64(JSON.stringify(claims))}`;
    // JOSE wants the raw r||s form, not DER.
    const signature = sign('sha256', Buffer.from(input), {
      key: this.#active.key,
      dsaEncoding: 'ieee-p1363',
    });
    return `${input}.${signature.toString('base64url')}`;
  }
}

const b64 = (s: string) => Buffer.from(s, 'utf8').toString('base64url');

/** The keys in `file`, creating the file with one new key when it does not exist. */
export function loadSigningKeys(file: string, now: number): SigningKeys {
  if (!existsSync(file)) {
    mkdirSync(dirname(file), { recursive: true, mode: 0o700 });
    const { privateKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
    const stored: StoredKey[] = [
      {
        kid: newId('key'),
        createdAt: now,
        jwk: privateKey.export({ format: 'jwk' }) as Record<string, string>,
      },
    ];
    try {
      // 'wx': two processes starting together cannot both write different keys.
      writeFileSync(file, `${JSON.stringify({ keys: stored }, null, 2)}\n`, { flag: 'wx', mode: 0o600 });
      chmodSync(file, 0o600);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
    }
  }
  const parsed = JSON.parse(readFileSync(file, 'utf8')) as { keys: StoredKey[] };
  return new SigningKeys(parsed.keys);
}
