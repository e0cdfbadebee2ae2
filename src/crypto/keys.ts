// Purpose-bound keys derived from the server secret, and HMAC signatures made with them. One key per purpose,
// so a value signed for one use (a CSRF token) can never be replayed as another (a device cookie).
import { createHmac, hkdfSync } from 'node:crypto';
import { constantTimeEqual } from './constant-time.ts';

export type KeyPurpose =
  | 'csrf'
  | 'device'
  | 'password-proof'
  | 'outbox'
  | 'oidc-state'
  | 'oidc-tokens'
  | 'token-flash'
  | 'signing-keys'
  | 'setup-link'
  | 'second-factor'
  | 'recent-proof'
  | 'webauthn-challenge';

/** 32 bytes for one purpose, derived from the server secret with HKDF-SHA256. */
export function deriveKey(secret: string, purpose: KeyPurpose): Buffer {
  return Buffer.from(hkdfSync('sha256', secret, 'hero-gateway', `hero-gateway ${purpose} v1`, 32));
}

export class SigningKey {
  readonly #key: Buffer;
  constructor(secret: string, purpose: KeyPurpose) {
    this.#key = deriveKey(secret, purpose);
  }

  sign(data: string): string {
    return createHmac('sha256', this.#key).update(data, 'utf8').digest('base64url');
  }

  verify(data: string, signature: string): boolean {
    return constantTimeEqual(this.sign(data), signature);
  }
}
