-- The audit trail is append-only for the application (docs/deployment.md, "The trial server").
-- Run as kyphoangle_owner after the first start and after every upgrade:
--   psql -v ON_ERROR_STOP=1 "postgresql://kyphoangle_owner@SERVER/kyphoangle?sslmode=verify-full" -f audit-append-only.sql
-- The application may read the audit events and add new ones; it can neither change nor delete one.
-- (The program also chains the events by hash: `kyphoangle audit verify` names any event edited or
-- deleted by someone who bypassed these rights.)

REVOKE UPDATE, DELETE, TRUNCATE ON audit_event FROM kyphoangle_app;
GRANT SELECT, INSERT ON audit_event TO kyphoangle_app;
