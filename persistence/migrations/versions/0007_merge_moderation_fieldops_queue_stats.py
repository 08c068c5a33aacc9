"""Join the moderation, field-operations and job-queue-statistics branches.

Revision ID: 0007
Revises: 0006m, 0006f, 0006q
Create Date: 2026-11-25
"""

from __future__ import annotations

from collections.abc import Sequence

revision: str = "0007"
down_revision: tuple[str, ...] = ("0006m", "0006f", "0006q")
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Nothing to change: the branches touch separate tables."""


def downgrade() -> None:
    """Nothing to change."""
