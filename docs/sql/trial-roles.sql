-- The trial database and its three roles, with least privilege (docs/deployment.md, "The trial server").
-- Run once as a PostgreSQL superuser:  psql -v ON_ERROR_STOP=1 -f trial-roles.sql
-- then give each role a password:      psql -c '\password kyphoangle_app'   (and the two others)
--
--   kyphoangle_owner   owns the tables; runs the schema upgrades (administrator only, never on workstations)
--   kyphoangle_app     what the workstations sign in as: reads and writes the study, but can only ever
--                      add to the audit trail (audit-append-only.sql takes UPDATE and DELETE away)
--   kyphoangle_backup  reads everything, for pg_dump (`kyphoangle backup`)

CREATE ROLE kyphoangle_owner LOGIN;
CREATE ROLE kyphoangle_app LOGIN;
CREATE ROLE kyphoangle_backup LOGIN;
CREATE DATABASE kyphoangle OWNER kyphoangle_owner ENCODING 'UTF8' TEMPLATE template0;

\connect kyphoangle

REVOKE ALL ON DATABASE kyphoangle FROM PUBLIC;
GRANT CONNECT ON DATABASE kyphoangle TO kyphoangle_app, kyphoangle_backup;
REVOKE ALL ON SCHEMA public FROM PUBLIC;
GRANT ALL ON SCHEMA public TO kyphoangle_owner;
GRANT USAGE ON SCHEMA public TO kyphoangle_app, kyphoangle_backup;

-- every table and sequence the owner creates (now and in later upgrades) is usable by the application
-- and readable by the backup role
ALTER DEFAULT PRIVILEGES FOR ROLE kyphoangle_owner IN SCHEMA public
    GRANT SELECT, INSERT, UPDATE, DELETE ON TABLES TO kyphoangle_app;
ALTER DEFAULT PRIVILEGES FOR ROLE kyphoangle_owner IN SCHEMA public
    GRANT USAGE, SELECT ON SEQUENCES TO kyphoangle_app;
ALTER DEFAULT PRIVILEGES FOR ROLE kyphoangle_owner IN SCHEMA public
    GRANT SELECT ON TABLES TO kyphoangle_backup;
ALTER DEFAULT PRIVILEGES FOR ROLE kyphoangle_owner IN SCHEMA public
    GRANT SELECT ON SEQUENCES TO kyphoangle_backup;
