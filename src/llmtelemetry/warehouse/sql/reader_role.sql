-- The read-only role of the dashboards and the forecaster (spec section 3).
-- Placeholders: {reader} the role, {database} this database, {owner} the role that runs dbt,
-- {schemas} the mart schemas, {statement_timeout}, {connection_limit}.
-- Every statement is idempotent; the role's password is set separately.

alter role {reader} nosuperuser nocreatedb nocreaterole noreplication nobypassrls noinherit login
  connection limit {connection_limit};
alter role {reader} set statement_timeout = {statement_timeout};
alter role {reader} set default_transaction_read_only = on;
alter role {reader} set search_path = public_star, public_snowflake;

-- TEMP is granted to PUBLIC by default: take it back, so no role without an explicit grant
-- can create temporary tables here. The database owner keeps it through ownership.
revoke temporary on database {database} from public;
revoke all on database {database} from {reader};
grant connect on database {database} to {reader};

-- PostgreSQL 15 no longer lets PUBLIC create in schema public; make sure of it on older clusters.
revoke create on schema public from public;

-- Large objects are writes outside any schema; PUBLIC may create them by default.
revoke execute on function pg_catalog.lo_creat(integer), pg_catalog.lo_create(oid),
  pg_catalog.lo_from_bytea(oid, bytea), pg_catalog.lo_import(text), pg_catalog.lo_import(text, oid)
  from public;

-- The marts: usage and select, on what exists now and on what {owner} creates later.
create schema if not exists public_star;
create schema if not exists public_snowflake;
revoke all on schema public_star, public_snowflake from {reader};
grant usage on schema public_star, public_snowflake to {reader};
grant select on all tables in schema public_star, public_snowflake to {reader};
alter default privileges for role {owner} in schema public_star, public_snowflake
  grant select on tables to {reader};
