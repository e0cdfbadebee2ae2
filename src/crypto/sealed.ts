// Authenticated encryption (AES-256-GCM) for values that must be stored but hold secrets, like queued mails
// whose links carry one-time tokens: a copy of the database alone does not reveal them.
import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import { deriveKey, type KeyPurpose } from './keys.ts';

export class Sealer {
  readonly #key: Buffer;
  constructor(secret: string, purpose: KeyPurpose) {
    this.#key = deriveKey(secret, purpose);
  }

  /** "v1." + base64url(iv | tag | ciphertext) of the JSON of `value`. */
  seal(value: unknown): string {
    const iv = randomBytes(12);
    const cipher = createCipheriv('aes-256-gcm', this.#key, iv);
    const body = Buffer.concat([cipher.update(JSON.stringify(value), 'utf8'), cipher.final()]);
    return `v1.${Buffer.concat([iv, cipher.getAuthTag(), body]).toString('base64url')}`;
  }

  /** The sealed value, or null when it was tampered with, sealed under another secret, or is not ours. */
  open(sealed: string): unknown {
    if (!sealed.startsWith('v1.')) return null;
    const raw = Buffer.from(sealed.slice(3), 'base64url');
    if (raw.length < 28) return null;
    try {
      const decipher = createDecipheriv('aes-256-gcm', this.#key, raw.subarray(0, 12));
      decipher.setAuthTag(raw.subarray(12, 28));
      const text = Buffer.concat([decipher.update(raw.subarray(28)), decipher.final()]).toString('utf8');
      return JSON.parse(text);
    } catch {
      return null;
    }
  }
}
