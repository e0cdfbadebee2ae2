-- Ending a session (logout, password change, an admin) must reach every process's session cache on the very
-- next request, the way a token revocation does: bump the authz version. Renewals (last_seen_at) do not.
CREATE TRIGGER sessions_authz_u AFTER UPDATE OF revoked_at ON sessions BEGIN UPDATE meta SET value = value + 1 WHERE key = 'authz_version'; END;
CREATE TRIGGER sessions_authz_d AFTER DELETE ON sessions WHEN OLD.revoked_at IS NULL BEGIN UPDATE meta SET value = value + 1 WHERE key = 'authz_version'; END;

CREATE INDEX one_time_tokens_purpose ON one_time_tokens(purpose, expires_at);
