"""Where each domain declares its personal data: one :class:`PersonalData` per table, walked by export and erasure.

A domain declares, for a table holding user ids: the columns naming the person a row is *about*
(``subject``: exported to them, erased with them) and the columns that merely *point at* someone
(``references``: a pseudonym once that person is erased, so kept as they are). What erasure does
to a subject's rows is ``erase``: ``delete`` them, ``scrub`` the named columns (blank, or the SQL
expression given), or ``keep`` them. The test ``tests/api/privacy/test_registry.py`` fails when a
tenant table has a foreign key to ``app_user.id`` that no declaration names, so a new domain
cannot forget its people.
"""

from __future__ import annotations

from typing import Final, Literal

import msgspec

__all__ = ["ERASED_NAME", "Erase", "PersonalData", "declared", "register"]

Erase = Literal["delete", "scrub", "keep"]
MessageErasure = Literal["tombstone", "anonymise"]

ERASED_NAME: Final = "Erased user"


class PersonalData(msgspec.Struct, frozen=True, kw_only=True):
    """One table's personal data and what export and erasure do with it.

    Attributes:
        domain: the export file the rows go to (``<domain>.json``).
        table: the table's name.
        subject: user-id columns; a row is the person's when any of them names them.
        references: user-id columns that only point at someone; never exported, kept on erasure.
        rows_via: instead of ``subject``, SQL selecting the person's rows through another table,
            with the bound parameters ``:user_id`` and ``:email`` (e.g. edits of their messages).
        erase: what erasure does to the person's rows.
        scrub: for ``erase="scrub"``: columns blanked (NULL, or an empty value when NOT NULL).
        rewrite: for ``erase="scrub"``: columns set to an SQL expression (may use ``:user_id``).
        omit: columns never exported (secrets and hashes; binary columns are always left out).
        when: only under this tenant message policy (chat messages: tombstone or anonymise).
        files: the column holding a storage key whose bytes are exported and deleted with the row.
        export: whether the person's rows go into their export (a second declaration of a table
            for another ``when`` sets it false, so rows are exported once).
    """

    domain: str
    table: str
    subject: tuple[str, ...] = ()
    references: tuple[str, ...] = ()
    rows_via: str | None = None
    erase: Erase = "keep"
    scrub: tuple[str, ...] = ()
    rewrite: dict[str, str] = msgspec.field(default_factory=dict)
    omit: tuple[str, ...] = ()
    when: MessageErasure | None = None
    files: str | None = None
    export: bool = True

    def __post_init__(self) -> None:
        if bool(self.subject) == bool(self.rows_via) and self.erase != "keep":
            raise ValueError(f"{self.table}: name either subject columns or rows_via")
        if self.erase == "scrub" and not (self.scrub or self.rewrite):
            raise ValueError(f"{self.table}: erase='scrub' needs scrub or rewrite columns")

    def owned(self) -> str:
        """SQL selecting the person's rows of this table (parameters ``:user_id``, ``:email``)."""
        if self.rows_via is not None:
            return self.rows_via
        return "(" + " OR ".join(f"{column} = :user_id" for column in self.subject) + ")"

    @property
    def exported(self) -> bool:
        return self.export and bool(self.subject or self.rows_via)


_DECLARED: list[PersonalData] = []


def register(*declarations: PersonalData) -> None:
    """Declare tables' personal data (a domain's package calls this once, at import)."""
    _DECLARED.extend(declarations)


def declared() -> list[PersonalData]:
    """Every declaration, in the order export and erasure walk them."""
    # Imported for its declarations: the built-in domains live in one catalogue.
    import api.privacy.catalogue  # noqa: F401

    return list(_DECLARED)
