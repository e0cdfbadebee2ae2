-- Second factors: authenticator apps (TOTP, RFC 6238) and passkeys / security keys (WebAuthn), one row each,
-- and each account's single-use recovery codes. Secrets are sealed (TOTP) or public (WebAuthn public keys);
-- recovery codes are stored as SHA-256 only.
CREATE TABLE second_factors (
  id             text PRIMARY KEY,
  user_id        text NOT NULL REFERENCES users(id) ON DELETE CASCADE,
  kind           text NOT NULL CHECK (kind IN ('totp', 'webauthn')),
  name           text NOT NULL,
  created_at     bigint NOT NULL,
  confirmed_at   bigint,                             -- counts only once confirmed (TOTP: a first right code)
  last_used_at   bigint,
  totp_secret    text,                               -- sealed base32 secret
  totp_last_step bigint,                             -- newest 30 s step accepted: each code works once
  credential_id  text UNIQUE,                        -- WebAuthn credential id, base64url
  public_key     text,                               -- COSE public key, base64url
  sign_count     bigint,
  transports     text,                               -- JSON array
  discoverable   boolean                             -- a passkey that can sign in on its own
);
CREATE INDEX second_factors_user ON second_factors (user_id);

CREATE TABLE recovery_codes (
  user_id    text NOT NULL REFERENCES users(id) ON DELETE CASCADE,
  code_hash  text NOT NULL,
  created_at bigint NOT NULL,
  used_at    bigint,
  PRIMARY KEY (user_id, code_hash)
);
