-- The keys that sign X-Hero-Assertion, in the store rather than in one instance's data_dir, so every instance
-- and worker publishes the same JWKS and signs with the same key. The private JWK is sealed (AES-256-GCM, key
-- derived from server.secret): a copy of the database alone does not reveal it.
CREATE TABLE signing_keys (
  kid                TEXT PRIMARY KEY,
  created_at         INTEGER NOT NULL,
  active_from        INTEGER NOT NULL,                 -- signs from this instant on; published from insertion
  public_jwk         TEXT NOT NULL,                    -- JSON {kty, crv, x, y}
  sealed_private_jwk TEXT NOT NULL                     -- "v1." + base64url(iv | tag | ciphertext)
);
