-- The whole schema for PostgreSQL: the same tables, columns and rules as migrations/sqlite, written in this
-- dialect. Times are bigint milliseconds since the epoch (read back as JavaScript numbers); ids are random
-- text chosen by the app. Every secret a client presents (sessions, one-time tokens, API tokens) is stored
-- only as its SHA-256.

CREATE TABLE users (
  id                  text PRIMARY KEY,
  username            text NOT NULL CONSTRAINT users_username_key UNIQUE,  -- [a-z0-9._-], immutable
  email               text NOT NULL CONSTRAINT users_email_key UNIQUE,     -- canonical (trimmed, NFKC, lower-case)
  email_verified_at   bigint,
  disabled_at         bigint,
  created_at          bigint NOT NULL,
  updated_at          bigint NOT NULL,
  last_login_at       bigint,
  password_changed_at bigint
);

CREATE TABLE credentials (
  user_id     text NOT NULL REFERENCES users(id) ON DELETE CASCADE,
  kind        text NOT NULL,                        -- 'password'
  secret_hash text NOT NULL,                        -- argon2id PHC string, parameters included
  created_at  bigint NOT NULL,
  updated_at  bigint NOT NULL,
  PRIMARY KEY (user_id, kind)
);

CREATE TABLE groups (
  id         text PRIMARY KEY,
  name       text NOT NULL CONSTRAINT groups_name_key UNIQUE,
  created_at bigint NOT NULL
);

CREATE TABLE group_members (
  group_id   text NOT NULL REFERENCES groups(id) ON DELETE CASCADE,
  user_id    text NOT NULL REFERENCES users(id) ON DELETE CASCADE,
  source     text NOT NULL DEFAULT 'local',         -- 'local' or 'oidc:<provider>' (refreshed at IdP sign-in)
  created_at bigint NOT NULL,
  PRIMARY KEY (group_id, user_id)
);
CREATE INDEX group_members_user ON group_members(user_id);

CREATE TABLE roles (
  id         text PRIMARY KEY,
  name       text NOT NULL CONSTRAINT roles_name_key UNIQUE,
  builtin    boolean NOT NULL DEFAULT false,
  created_at bigint NOT NULL,
  updated_at bigint NOT NULL
);

CREATE TABLE role_claims (
  role_id text NOT NULL REFERENCES roles(id) ON DELETE CASCADE,
  claim   text NOT NULL,
  PRIMARY KEY (role_id, claim)
);

-- A grant gives a role to exactly one user or one group, globally (context '') or in one context.
CREATE TABLE grants (
  id         text PRIMARY KEY,
  role_id    text NOT NULL REFERENCES roles(id) ON DELETE CASCADE,
  user_id    text REFERENCES users(id) ON DELETE CASCADE,
  group_id   text REFERENCES groups(id) ON DELETE CASCADE,
  context    text NOT NULL DEFAULT '',
  created_at bigint NOT NULL,
  CHECK ((user_id IS NULL) <> (group_id IS NULL))
);
CREATE UNIQUE INDEX grants_unique ON grants(role_id, COALESCE(user_id, ''), COALESCE(group_id, ''), context);
CREATE INDEX grants_user ON grants(user_id);
CREATE INDEX grants_group ON grants(group_id);

CREATE TABLE sessions (
  id                  text PRIMARY KEY,
  token_hash          text NOT NULL CONSTRAINT sessions_token_hash_key UNIQUE,
  user_id             text NOT NULL REFERENCES users(id) ON DELETE CASCADE,
  auth_method         text NOT NULL,                -- 'password' | 'magic_link' | 'oidc:<provider>'
  created_at          bigint NOT NULL,
  last_seen_at        bigint NOT NULL,
  idle_expires_at     bigint NOT NULL,
  absolute_expires_at bigint NOT NULL,
  revoked_at          bigint,
  ip                  text,
  user_agent          text,
  oidc_provider       text,
  oidc_subject        text,
  oidc_sid            text,
  oidc_tokens         text                          -- encrypted (AES-256-GCM) refresh and ID tokens
);
CREATE INDEX sessions_user ON sessions(user_id);
CREATE INDEX sessions_oidc ON sessions(oidc_provider, oidc_subject);
-- Back-channel logout names a provider's session by its `sid`: find those sessions without a scan.
CREATE INDEX sessions_oidc_sid ON sessions(oidc_provider, oidc_sid);

CREATE TABLE one_time_tokens (
  token_hash  text PRIMARY KEY,
  purpose     text NOT NULL,                        -- verify_email | reset_password | magic_login | invite | setup
  user_id     text REFERENCES users(id) ON DELETE CASCADE,
  email       text,
  payload     text,                                 -- JSON, e.g. {"return_to": "/wiki"}
  created_at  bigint NOT NULL,
  expires_at  bigint NOT NULL,
  consumed_at bigint
);
CREATE INDEX one_time_tokens_user ON one_time_tokens(user_id, purpose);
CREATE INDEX one_time_tokens_purpose ON one_time_tokens(purpose, expires_at);

CREATE TABLE api_tokens (
  id           text PRIMARY KEY,
  token_hash   text NOT NULL CONSTRAINT api_tokens_token_hash_key UNIQUE,
  user_id      text NOT NULL REFERENCES users(id) ON DELETE CASCADE,
  name         text NOT NULL,
  claims       text,                                -- JSON array narrowing the owner's claims; NULL = all
  created_at   bigint NOT NULL,
  expires_at   bigint,
  last_used_at bigint,
  revoked_at   bigint
);
CREATE INDEX api_tokens_user ON api_tokens(user_id);

CREATE TABLE oidc_identities (
  provider      text NOT NULL,
  issuer        text NOT NULL,
  subject       text NOT NULL,
  user_id       text NOT NULL REFERENCES users(id) ON DELETE CASCADE,
  email         text,
  created_at    bigint NOT NULL,
  last_login_at bigint,
  PRIMARY KEY (issuer, subject)
);
CREATE INDEX oidc_identities_user ON oidc_identities(user_id);

CREATE TABLE mail_outbox (
  id              text PRIMARY KEY,
  recipient       text NOT NULL,
  template        text NOT NULL,
  payload         text NOT NULL,                    -- encrypted: links in it carry one-time tokens
  created_at      bigint NOT NULL,
  attempts        integer NOT NULL DEFAULT 0,
  next_attempt_at bigint NOT NULL,
  locked_until    bigint,
  sent_at         bigint,
  last_error      text
);
CREATE INDEX mail_outbox_due ON mail_outbox(sent_at, next_attempt_at);

-- Sign-in throttling lives in the store so it survives restarts and is shared by every instance.
CREATE TABLE throttles (
  key             text PRIMARY KEY,                 -- e.g. 'ip:203.0.113.7', 'account:alice'
  failures        integer NOT NULL,
  last_failure_at bigint NOT NULL,
  blocked_until   bigint NOT NULL
);

-- A counter bumped by every change that can alter who someone is or what they may do (users, groups, roles,
-- grants, token and session revocation), in the changing transaction. Each bump also notifies channel
-- `hero_authz` with the new value, delivered at commit to every instance listening: their identity caches
-- are cleared on the next request without a store read per request.
CREATE TABLE meta (
  key   text PRIMARY KEY,
  value bigint NOT NULL
);
INSERT INTO meta (key, value) VALUES ('authz_version', 1);

CREATE FUNCTION hero_bump_authz() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE v bigint;
BEGIN
  UPDATE meta SET value = value + 1 WHERE key = 'authz_version' RETURNING value INTO v;
  PERFORM pg_notify('hero_authz', v::text);
  RETURN NULL;
END $$;

CREATE TRIGGER users_authz_u AFTER UPDATE OF username, email, disabled_at ON users
  FOR EACH ROW EXECUTE FUNCTION hero_bump_authz();
CREATE TRIGGER users_authz_d AFTER DELETE ON users FOR EACH ROW EXECUTE FUNCTION hero_bump_authz();
CREATE TRIGGER groups_authz_d AFTER DELETE ON groups FOR EACH ROW EXECUTE FUNCTION hero_bump_authz();
CREATE TRIGGER members_authz_i AFTER INSERT ON group_members FOR EACH ROW EXECUTE FUNCTION hero_bump_authz();
CREATE TRIGGER members_authz_d AFTER DELETE ON group_members FOR EACH ROW EXECUTE FUNCTION hero_bump_authz();
CREATE TRIGGER roles_authz_d AFTER DELETE ON roles FOR EACH ROW EXECUTE FUNCTION hero_bump_authz();
CREATE TRIGGER role_claims_authz_i AFTER INSERT ON role_claims FOR EACH ROW EXECUTE FUNCTION hero_bump_authz();
CREATE TRIGGER role_claims_authz_d AFTER DELETE ON role_claims FOR EACH ROW EXECUTE FUNCTION hero_bump_authz();
CREATE TRIGGER grants_authz_i AFTER INSERT ON grants FOR EACH ROW EXECUTE FUNCTION hero_bump_authz();
CREATE TRIGGER grants_authz_d AFTER DELETE ON grants FOR EACH ROW EXECUTE FUNCTION hero_bump_authz();
CREATE TRIGGER api_tokens_authz_u AFTER UPDATE OF revoked_at, expires_at, claims ON api_tokens
  FOR EACH ROW EXECUTE FUNCTION hero_bump_authz();
CREATE TRIGGER api_tokens_authz_d AFTER DELETE ON api_tokens FOR EACH ROW EXECUTE FUNCTION hero_bump_authz();
-- Ending a session must reach every instance's session cache on the very next request; renewals
-- (last_seen_at) do not bump.
CREATE TRIGGER sessions_authz_u AFTER UPDATE OF revoked_at ON sessions
  FOR EACH ROW EXECUTE FUNCTION hero_bump_authz();
CREATE TRIGGER sessions_authz_d AFTER DELETE ON sessions
  FOR EACH ROW WHEN (OLD.revoked_at IS NULL) EXECUTE FUNCTION hero_bump_authz();

-- The built-in role `admin` holds the gateway's own administration claim.
INSERT INTO roles (id, name, builtin, created_at, updated_at) VALUES ('role_admin', 'admin', true, 0, 0);
INSERT INTO role_claims (role_id, claim) VALUES ('role_admin', 'gateway.admin');
