-- Which second factor a session's sign-in passed, if any: 'totp', 'passkey', 'recovery_code', or 'provider'
-- (an identity provider trusted to have asked for one). A route that requires a second factor admits only
-- sessions that have one; a step-up starts a new session rather than changing this one.
ALTER TABLE sessions ADD COLUMN second_factor text;
