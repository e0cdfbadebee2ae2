-- The whole schema. Times are integer milliseconds since the epoch; ids are random text chosen by the app.
-- Every secret a client presents (sessions, one-time tokens, API tokens) is stored only as its SHA-256.

CREATE TABLE users (
  id                TEXT PRIMARY KEY,
  username          TEXT NOT NULL UNIQUE,          -- [a-z0-9._-], immutable: apps key on it
  email             TEXT NOT NULL UNIQUE,          -- canonical form (trimmed, NFKC, lower-case)
  email_verified_at INTEGER,
  disabled_at       INTEGER,
  created_at        INTEGER NOT NULL,
  updated_at        INTEGER NOT NULL,
  last_login_at     INTEGER,
  password_changed_at INTEGER
);

CREATE TABLE credentials (
  user_id     TEXT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
  kind        TEXT NOT NULL,                        -- 'password'
  secret_hash TEXT NOT NULL,                        -- argon2id PHC string, parameters included
  created_at  INTEGER NOT NULL,
  updated_at  INTEGER NOT NULL,
  PRIMARY KEY (user_id, kind)
);

CREATE TABLE groups (
  id         TEXT PRIMARY KEY,
  name       TEXT NOT NULL UNIQUE,
  created_at INTEGER NOT NULL
);

CREATE TABLE group_members (
  group_id   TEXT NOT NULL REFERENCES groups(id) ON DELETE CASCADE,
  user_id    TEXT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
  source     TEXT NOT NULL DEFAULT 'local',         -- 'local' or 'oidc:<provider>' (refreshed at IdP sign-in)
  created_at INTEGER NOT NULL,
  PRIMARY KEY (group_id, user_id)
);
CREATE INDEX group_members_user ON group_members(user_id);

CREATE TABLE roles (
  id         TEXT PRIMARY KEY,
  name       TEXT NOT NULL UNIQUE,
  builtin    INTEGER NOT NULL DEFAULT 0,
  created_at INTEGER NOT NULL,
  updated_at INTEGER NOT NULL
);

CREATE TABLE role_claims (
  role_id TEXT NOT NULL REFERENCES roles(id) ON DELETE CASCADE,
  claim   TEXT NOT NULL,
  PRIMARY KEY (role_id, claim)
);

-- A grant gives a role to exactly one user or one group, globally (context '') or in one context.
CREATE TABLE grants (
  id         TEXT PRIMARY KEY,
  role_id    TEXT NOT NULL REFERENCES roles(id) ON DELETE CASCADE,
  user_id    TEXT REFERENCES users(id) ON DELETE CASCADE,
  group_id   TEXT REFERENCES groups(id) ON DELETE CASCADE,
  context    TEXT NOT NULL DEFAULT '',
  created_at INTEGER NOT NULL,
  CHECK ((user_id IS NULL) <> (group_id IS NULL))
);
CREATE UNIQUE INDEX grants_unique ON grants(role_id, COALESCE(user_id, ''), COALESCE(group_id, ''), context);
CREATE INDEX grants_user ON grants(user_id);
CREATE INDEX grants_group ON grants(group_id);

CREATE TABLE sessions (
  id                  TEXT PRIMARY KEY,
  token_hash          TEXT NOT NULL UNIQUE,
  user_id             TEXT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
  auth_method         TEXT NOT NULL,                -- 'password' | 'magic_link' | 'oidc:<provider>'
  created_at          INTEGER NOT NULL,
  last_seen_at        INTEGER NOT NULL,
  idle_expires_at     INTEGER NOT NULL,
  absolute_expires_at INTEGER NOT NULL,
  revoked_at          INTEGER,
  ip                  TEXT,
  user_agent          TEXT,
  oidc_provider       TEXT,
  oidc_subject        TEXT,
  oidc_sid            TEXT,
  oidc_tokens         TEXT                          -- encrypted (AES-256-GCM) refresh and ID tokens
);
CREATE INDEX sessions_user ON sessions(user_id);
CREATE INDEX sessions_oidc ON sessions(oidc_provider, oidc_subject);

CREATE TABLE one_time_tokens (
  token_hash  TEXT PRIMARY KEY,
  purpose     TEXT NOT NULL,                        -- verify_email | reset_password | magic_login | invite | setup
  user_id     TEXT REFERENCES users(id) ON DELETE CASCADE,
  email       TEXT,
  payload     TEXT,                                 -- JSON, e.g. {"return_to": "/wiki"}
  created_at  INTEGER NOT NULL,
  expires_at  INTEGER NOT NULL,
  consumed_at INTEGER
);
CREATE INDEX one_time_tokens_user ON one_time_tokens(user_id, purpose);

CREATE TABLE api_tokens (
  id           TEXT PRIMARY KEY,
  token_hash   TEXT NOT NULL UNIQUE,
  user_id      TEXT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
  name         TEXT NOT NULL,
  claims       TEXT,                                -- JSON array narrowing the owner's claims; NULL = all
  created_at   INTEGER NOT NULL,
  expires_at   INTEGER,
  last_used_at INTEGER,
  revoked_at   INTEGER
);
CREATE INDEX api_tokens_user ON api_tokens(user_id);

CREATE TABLE oidc_identities (
  provider      TEXT NOT NULL,
  issuer        TEXT NOT NULL,
  subject       TEXT NOT NULL,
  user_id       TEXT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
  email         TEXT,
  created_at    INTEGER NOT NULL,
  last_login_at INTEGER,
  PRIMARY KEY (issuer, subject)
);
CREATE INDEX oidc_identities_user ON oidc_identities(user_id);

CREATE TABLE mail_outbox (
  id              TEXT PRIMARY KEY,
  recipient       TEXT NOT NULL,
  template        TEXT NOT NULL,
  payload         TEXT NOT NULL,                    -- encrypted: links in it carry one-time tokens
  created_at      INTEGER NOT NULL,
  attempts        INTEGER NOT NULL DEFAULT 0,
  next_attempt_at INTEGER NOT NULL,
  locked_until    INTEGER,
  sent_at         INTEGER,
  last_error      TEXT
);
CREATE INDEX mail_outbox_due ON mail_outbox(sent_at, next_attempt_at);

-- Sign-in throttling lives in the store so it survives restarts and is shared by workers.
CREATE TABLE throttles (
  key           TEXT PRIMARY KEY,                   -- e.g. 'ip:203.0.113.7', 'account:alice'
  failures      INTEGER NOT NULL,
  last_failure_at INTEGER NOT NULL,
  blocked_until INTEGER NOT NULL
);

CREATE TABLE audit_events (
  id        INTEGER PRIMARY KEY AUTOINCREMENT,
  at        INTEGER NOT NULL,
  actor     TEXT,
  action    TEXT NOT NULL,
  target    TEXT,
  ip        TEXT,
  detail    TEXT
);

-- A counter bumped by every change that can alter who someone is or what they may do (users, groups, roles,
-- grants, token revocation). In-memory caches of tokens and claims compare it on each request, so a change by
-- any process (CLI, admin API, another worker) applies to the very next request.
CREATE TABLE meta (
  key   TEXT PRIMARY KEY,
  value INTEGER NOT NULL
);
INSERT INTO meta (key, value) VALUES ('authz_version', 1);

CREATE TRIGGER users_authz_u AFTER UPDATE OF username, email, disabled_at ON users BEGIN UPDATE meta SET value = value + 1 WHERE key = 'authz_version'; END;
CREATE TRIGGER users_authz_d AFTER DELETE ON users BEGIN UPDATE meta SET value = value + 1 WHERE key = 'authz_version'; END;
CREATE TRIGGER groups_authz_d AFTER DELETE ON groups BEGIN UPDATE meta SET value = value + 1 WHERE key = 'authz_version'; END;
CREATE TRIGGER members_authz_i AFTER INSERT ON group_members BEGIN UPDATE meta SET value = value + 1 WHERE key = 'authz_version'; END;
CREATE TRIGGER members_authz_d AFTER DELETE ON group_members BEGIN UPDATE meta SET value = value + 1 WHERE key = 'authz_version'; END;
CREATE TRIGGER roles_authz_d AFTER DELETE ON roles BEGIN UPDATE meta SET value = value + 1 WHERE key = 'authz_version'; END;
CREATE TRIGGER role_claims_authz_i AFTER INSERT ON role_claims BEGIN UPDATE meta SET value = value + 1 WHERE key = 'authz_version'; END;
CREATE TRIGGER role_claims_authz_d AFTER DELETE ON role_claims BEGIN UPDATE meta SET value = value + 1 WHERE key = 'authz_version'; END;
CREATE TRIGGER grants_authz_i AFTER INSERT ON grants BEGIN UPDATE meta SET value = value + 1 WHERE key = 'authz_version'; END;
CREATE TRIGGER api_tokens_authz_u AFTER UPDATE OF revoked_at, expires_at, claims ON api_tokens BEGIN UPDATE meta SET value = value + 1 WHERE key = 'authz_version'; END;
CREATE TRIGGER api_tokens_authz_d AFTER DELETE ON api_tokens BEGIN UPDATE meta SET value = value + 1 WHERE key = 'authz_version'; END;
CREATE TRIGGER grants_authz_d AFTER DELETE ON grants BEGIN UPDATE meta SET value = value + 1 WHERE key = 'authz_version'; END;

-- The built-in role `admin` holds the gateway's own administration claim.
INSERT INTO roles (id, name, builtin, created_at, updated_at) VALUES ('role_admin', 'admin', 1, 0, 0);
INSERT INTO role_claims (role_id, claim) VALUES ('role_admin', 'gateway.admin');
