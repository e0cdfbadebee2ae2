// A signing key row as both SQL stores keep it (the public JWK as JSON text, the private one sealed), and its mapper.
import type { StoredSigningKey } from '../ports/store.ts';

export interface SigningKeyRow {
  kid: string;
  created_at: number;
  active_from: number;
  public_jwk: string;
  sealed_private_jwk: string;
}

export const toKey = (r: SigningKeyRow): StoredSigningKey => ({
  kid: r.kid,
  createdAt: r.created_at,
  activeFrom: r.active_from,
  publicJwk: JSON.parse(r.public_jwk) as Record<string, string>,
  sealedPrivateJwk: r.sealed_private_jwk,
});
