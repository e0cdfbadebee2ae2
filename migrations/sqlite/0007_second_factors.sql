-- Second factors: authenticator apps (TOTP, RFC 6238) and passkeys / security keys (WebAuthn), one row each,
-- and each account's single-use recovery codes. Secrets are sealed (TOTP) or public (WebAuthn public keys);
-- recovery codes are stored as SHA-256 only.
CREATE TABLE second_factors (
  id             TEXT PRIMARY KEY,
  user_id        TEXT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
  kind           TEXT NOT NULL CHECK (kind IN ('totp', 'webauthn')),
  name           TEXT NOT NULL,
  created_at     INTEGER NOT NULL,
  confirmed_at   INTEGER,                            -- counts only once confirmed (TOTP: a first right code)
  last_used_at   INTEGER,
  totp_secret    TEXT,                               -- sealed base32 secret
  totp_last_step INTEGER,                            -- newest 30 s step accepted: each code works once
  credential_id  TEXT UNIQUE,                        -- WebAuthn credential id, base64url
  public_key     TEXT,                               -- COSE public key, base64url
  sign_count     INTEGER,
  transports     TEXT,                               -- JSON array
  discoverable   INTEGER                             -- 1: a passkey that can sign in on its own
);
CREATE INDEX second_factors_user ON second_factors (user_id);

CREATE TABLE recovery_codes (
  user_id    TEXT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
  code_hash  TEXT NOT NULL,
  created_at INTEGER NOT NULL,
  used_at    INTEGER,
  PRIMARY KEY (user_id, code_hash)
);
