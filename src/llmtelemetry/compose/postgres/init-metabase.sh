#!/bin/sh
# First start of portfolio_db only: Metabase's application database and its owner.
set -eu
psql -v ON_ERROR_STOP=1 --username "$POSTGRES_USER" --dbname "$POSTGRES_DB" \
  --set=pw="$METABASE_DB_PASSWORD" <<'SQL'
create role metabase login password :'pw';
create database metabase owner metabase;
revoke all on database metabase from public;
SQL
