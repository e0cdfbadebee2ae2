-- The authz version moves once per transaction, at its commit, instead of once per changed row mid-transaction.
--
-- Why: 0001 bumped the `meta` row from a row-level trigger in the middle of the changing transaction, so that
-- transaction held the row's lock from the first change until it ended. Every authz write in the deployment
-- queued behind it, and two of them could deadlock (disabling a user locks the user, then `meta`, then the
-- user's sessions; a sign-out at the same moment locks its session, then waits for `meta`). A purge also sent
-- one notification per deleted row.
--
-- Now each change to something an identity cache holds only marks its transaction (once, through a
-- transaction-local setting and one row in `authz_pending`); a deferred constraint trigger on that row bumps the
-- version and notifies when the transaction commits. The `meta` lock is the last lock such a transaction takes
-- and it is held only for the commit itself, so nothing waits while holding it: no cycle, no deadlock. Commits
-- that bump still take turns on the row, so versions and notifications stay in commit order.

DROP TRIGGER users_authz_u ON users;
DROP TRIGGER users_authz_d ON users;
DROP TRIGGER groups_authz_d ON groups;
DROP TRIGGER members_authz_i ON group_members;
DROP TRIGGER members_authz_d ON group_members;
DROP TRIGGER roles_authz_d ON roles;
DROP TRIGGER role_claims_authz_i ON role_claims;
DROP TRIGGER role_claims_authz_d ON role_claims;
DROP TRIGGER grants_authz_i ON grants;
DROP TRIGGER grants_authz_d ON grants;
DROP TRIGGER api_tokens_authz_u ON api_tokens;
DROP TRIGGER api_tokens_authz_d ON api_tokens;
DROP TRIGGER sessions_authz_u ON sessions;
DROP TRIGGER sessions_authz_d ON sessions;
DROP FUNCTION hero_bump_authz();

-- At most one row per open transaction that changed authz data; removed by the commit that bumps.
CREATE TABLE authz_pending (
  id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY
);

-- Marks the current transaction once, however many rows and statements changed something.
CREATE FUNCTION hero_mark_authz_tx() RETURNS void LANGUAGE plpgsql AS $$
BEGIN
  -- The setting is transaction-local: it resets at COMMIT or ROLLBACK (and with a rolled-back savepoint, along
  -- with the row it guards).
  IF current_setting('hero.authz_marked', true) IS DISTINCT FROM 'on' THEN
    PERFORM set_config('hero.authz_marked', 'on', true);
    INSERT INTO authz_pending DEFAULT VALUES;
  END IF;
END $$;

-- Row-level, for updates of named columns (a column list rules out transition tables).
CREATE FUNCTION hero_mark_authz() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  PERFORM hero_mark_authz_tx();
  RETURN NULL;
END $$;

-- Statement-level over the rows the statement changed (`changed`): one call for a purge of a million rows, and
-- none that counts for a statement that changed nothing (INSERT … ON CONFLICT DO NOTHING that did nothing).
CREATE FUNCTION hero_mark_authz_if_any() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF EXISTS (SELECT 1 FROM changed) THEN PERFORM hero_mark_authz_tx(); END IF;
  RETURN NULL;
END $$;

-- Deleting sessions that had already ended (housekeeping) changes nothing a cache may hold.
CREATE FUNCTION hero_mark_sessions_gone() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF EXISTS (SELECT 1 FROM changed WHERE revoked_at IS NULL) THEN PERFORM hero_mark_authz_tx(); END IF;
  RETURN NULL;
END $$;

CREATE FUNCTION hero_bump_authz() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE v bigint;
BEGIN
  UPDATE meta SET value = value + 1 WHERE key = 'authz_version' RETURNING value INTO v;
  DELETE FROM authz_pending WHERE id = NEW.id;
  -- Delivered when this transaction commits, to every listening instance (and to this connection, which
  -- listens too: an instance sees its own change before the statement that made it returns).
  PERFORM pg_notify('hero_authz', v::text);
  RETURN NULL;
END $$;

CREATE CONSTRAINT TRIGGER authz_pending_bump AFTER INSERT ON authz_pending
  DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION hero_bump_authz();

CREATE TRIGGER users_authz_u AFTER UPDATE OF username, email, disabled_at ON users
  FOR EACH ROW EXECUTE FUNCTION hero_mark_authz();
CREATE TRIGGER api_tokens_authz_u AFTER UPDATE OF revoked_at, expires_at, claims ON api_tokens
  FOR EACH ROW EXECUTE FUNCTION hero_mark_authz();
-- Ending a session must reach every instance's session cache on the very next request; renewals
-- (last_seen_at) do not mark.
CREATE TRIGGER sessions_authz_u AFTER UPDATE OF revoked_at ON sessions
  FOR EACH ROW EXECUTE FUNCTION hero_mark_authz();
CREATE TRIGGER sessions_authz_d AFTER DELETE ON sessions REFERENCING OLD TABLE AS changed
  FOR EACH STATEMENT EXECUTE FUNCTION hero_mark_sessions_gone();
CREATE TRIGGER users_authz_d AFTER DELETE ON users REFERENCING OLD TABLE AS changed
  FOR EACH STATEMENT EXECUTE FUNCTION hero_mark_authz_if_any();
CREATE TRIGGER groups_authz_d AFTER DELETE ON groups REFERENCING OLD TABLE AS changed
  FOR EACH STATEMENT EXECUTE FUNCTION hero_mark_authz_if_any();
CREATE TRIGGER members_authz_i AFTER INSERT ON group_members REFERENCING NEW TABLE AS changed
  FOR EACH STATEMENT EXECUTE FUNCTION hero_mark_authz_if_any();
CREATE TRIGGER members_authz_d AFTER DELETE ON group_members REFERENCING OLD TABLE AS changed
  FOR EACH STATEMENT EXECUTE FUNCTION hero_mark_authz_if_any();
CREATE TRIGGER roles_authz_d AFTER DELETE ON roles REFERENCING OLD TABLE AS changed
  FOR EACH STATEMENT EXECUTE FUNCTION hero_mark_authz_if_any();
CREATE TRIGGER role_claims_authz_i AFTER INSERT ON role_claims REFERENCING NEW TABLE AS changed
  FOR EACH STATEMENT EXECUTE FUNCTION hero_mark_authz_if_any();
CREATE TRIGGER role_claims_authz_d AFTER DELETE ON role_claims REFERENCING OLD TABLE AS changed
  FOR EACH STATEMENT EXECUTE FUNCTION hero_mark_authz_if_any();
CREATE TRIGGER grants_authz_i AFTER INSERT ON grants REFERENCING NEW TABLE AS changed
  FOR EACH STATEMENT EXECUTE FUNCTION hero_mark_authz_if_any();
CREATE TRIGGER grants_authz_d AFTER DELETE ON grants REFERENCING OLD TABLE AS changed
  FOR EACH STATEMENT EXECUTE FUNCTION hero_mark_authz_if_any();
CREATE TRIGGER api_tokens_authz_d AFTER DELETE ON api_tokens REFERENCING OLD TABLE AS changed
  FOR EACH STATEMENT EXECUTE FUNCTION hero_mark_authz_if_any();
