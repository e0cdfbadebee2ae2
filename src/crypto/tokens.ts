// Random tokens and identifiers, and the SHA-256 form in which tokens are kept at rest.
import { createHash, hash, randomBytes } from 'node:crypto';

/** 32 random bytes (256 bits) as base64url: 43 characters. */
export function randomSecret(bytes = 32): string {
  return randomBytes(bytes).toString('base64url');
}

/** Tokens are stored only as their SHA-256, so a leaked database holds nothing a client could present. */
export function hashToken(token: string): string {
  // One-shot hash: the same digest as createHash().update().digest() without a Hash object per request.
  return hash('sha256', token, 'hex');
}

/** Short random identifiers for rows users refer to (`token revoke ID`); not secrets. */
export function newId(prefix: string): string {
  return `${prefix}_${randomBytes(9).toString('base64url')}`;
}

export const API_TOKEN_PREFIX = 'hgw_';
const API_TOKEN_SHAPE = /^hgw_[A-Za-z0-9_-]{43}$/;

export function newApiToken(): string {
  return API_TOKEN_PREFIX + randomSecret(32);
}

/** A cheap shape check: anything else cannot be one of our tokens, so no store lookup is needed. */
export function looksLikeApiToken(value: string): boolean {
  return API_TOKEN_SHAPE.test(value);
}

/** The PKCE S256 challenge of a code verifier (RFC 7636 §4.2): base64url(SHA-256(verifier)). */
export function pkceChallenge(verifier: string): string {
  return createHash('sha256').update(verifier, 'ascii').digest('base64url');
}
