-- Nothing ever wrote this table: the audit log is a file of JSON lines (server.audit_log), which operators ship
-- with their logs. An empty table that looks like the audit trail would only mislead.
DROP TABLE IF EXISTS audit_events;
