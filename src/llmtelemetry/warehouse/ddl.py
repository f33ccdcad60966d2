"""PostgreSQL tables for the raw Arrow schemas: types, keys and the statements that make them."""

from __future__ import annotations

import pyarrow as pa
from psycopg import sql

from llmtelemetry.generator.schema import SCHEMAS

RAW_SCHEMA = "raw_staging"

PRIMARY_KEYS: dict[str, tuple[str, ...]] = {
    "users": ("user_id",),
    "models": ("model_id",),
    "endpoints": ("endpoint_id",),
    "dates": ("date_key",),
    "api_requests": ("request_id",),
}
UNIQUE_KEYS: dict[str, tuple[str, ...]] = {"users": ("email",)}
# (table, column) -> (referenced table, referenced column)
FOREIGN_KEYS: dict[tuple[str, str], tuple[str, str]] = {
    ("api_requests", "user_id"): ("users", "user_id"),
    ("api_requests", "model_id"): ("models", "model_id"),
    ("api_requests", "endpoint_id"): ("endpoints", "endpoint_id"),
}
# Columns whose PostgreSQL type is richer than their Arrow type.
TYPE_OVERRIDES: dict[tuple[str, str], str] = {("api_requests", "request_id"): "uuid"}


def pg_type(table: str, field: pa.Field) -> str:
    """The PostgreSQL type of one raw column."""
    if (table, field.name) in TYPE_OVERRIDES:
        return TYPE_OVERRIDES[(table, field.name)]
    kind = field.type
    if pa.types.is_int8(kind) or pa.types.is_int16(kind):
        return "smallint"
    if pa.types.is_int32(kind):
        return "integer"
    if pa.types.is_int64(kind):
        return "bigint"
    if pa.types.is_string(kind) or pa.types.is_large_string(kind):
        return "text"
    if pa.types.is_boolean(kind):
        return "boolean"
    if pa.types.is_date32(kind):
        return "date"
    if pa.types.is_timestamp(kind):
        return "timestamptz" if kind.tz else "timestamp"
    if pa.types.is_decimal(kind):
        return f"numeric({kind.precision},{kind.scale})"
    if pa.types.is_floating(kind):
        return "double precision"
    raise TypeError(f"no PostgreSQL type for {table}.{field.name}: {kind}")


def create_table(table: str, physical_name: str) -> sql.Composed:
    """CREATE TABLE for a raw table under another name (keys are added after the data)."""
    columns = [
        sql.SQL("{} {}{}").format(
            sql.Identifier(field.name),
            sql.SQL(pg_type(table, field)),
            sql.SQL("" if field.nullable else " not null"),
        )
        for field in SCHEMAS[table]
    ]
    return sql.SQL("create table {}.{} ({})").format(
        sql.Identifier(RAW_SCHEMA), sql.Identifier(physical_name), sql.SQL(", ").join(columns)
    )


def add_keys(table: str, physical: dict[str, str], suffix: str) -> list[sql.Composed]:
    """Primary, unique and foreign keys of `table`; constraint names end in `suffix`.

    `physical` maps raw table names to the names they currently have.
    """
    me = sql.Identifier(RAW_SCHEMA, physical[table])
    statements = [
        sql.SQL("alter table {} add constraint {} primary key ({})").format(
            me,
            sql.Identifier(f"{table}_pkey{suffix}"),
            sql.SQL(", ").join(map(sql.Identifier, PRIMARY_KEYS[table])),
        )
    ]
    if table in UNIQUE_KEYS:
        columns = UNIQUE_KEYS[table]
        statements.append(
            sql.SQL("alter table {} add constraint {} unique ({})").format(
                me,
                sql.Identifier(f"{table}_{'_'.join(columns)}_key{suffix}"),
                sql.SQL(", ").join(map(sql.Identifier, columns)),
            )
        )
    for (source, column), (target, target_column) in FOREIGN_KEYS.items():
        if source == table:
            statements.append(
                sql.SQL("alter table {} add constraint {} foreign key ({}) references {} ({})").format(
                    me,
                    sql.Identifier(f"{table}_{column}_fkey{suffix}"),
                    sql.Identifier(column),
                    sql.Identifier(RAW_SCHEMA, physical[target]),
                    sql.Identifier(target_column),
                )
            )
    return statements


def constraint_names(table: str) -> list[str]:
    """Final names of the constraints `add_keys` creates (with an empty suffix)."""
    names = [f"{table}_pkey"]
    if table in UNIQUE_KEYS:
        names.append(f"{table}_{'_'.join(UNIQUE_KEYS[table])}_key")
    names += [f"{table}_{column}_fkey" for (source, column) in FOREIGN_KEYS if source == table]
    return names
