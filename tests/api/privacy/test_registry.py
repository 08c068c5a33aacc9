"""The personal data registry covers every table that points at a person, and names only real columns."""

from __future__ import annotations

from api.privacy.registry import declared
from persistence.base import metadata, tenant_tables


def user_id_columns() -> set[tuple[str, str]]:
    """``(table, column)`` of every foreign key to ``app_user.id`` in a tenant table."""
    return {
        (table.name, column.name)
        for table in metadata.sorted_tables
        if table.name in tenant_tables()
        for column in table.columns
        for key in column.foreign_keys
        if (key.column.table.name, key.column.name) == ("app_user", "id")
    }


def test_every_tenant_table_with_a_user_id_column_is_declared() -> None:
    named = {(d.table, column) for d in declared() for column in (*d.subject, *d.references)}
    assert sorted(user_id_columns() - named) == []


def test_every_declared_column_exists() -> None:
    unknown = [
        f"{d.table}.{column}"
        for d in declared()
        for column in (*d.subject, *d.references, *d.scrub, *d.rewrite, *d.omit, *([d.files] if d.files else []))
        if d.table not in metadata.tables or column not in metadata.tables[d.table].columns
    ]
    assert unknown == []


def test_a_table_is_exported_under_one_declaration_at_most() -> None:
    exported = [d.table for d in declared() if d.exported]
    assert sorted(exported) == sorted(set(exported))
