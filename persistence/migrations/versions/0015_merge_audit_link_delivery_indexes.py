"""Join the audit-link branch and the delivery-indexes branch.

Revision ID: 0015
Revises: 0014a, 0014d
Create Date: 2026-11-26
"""

from __future__ import annotations

from collections.abc import Sequence

revision: str = "0015"
down_revision: tuple[str, ...] = ("0014a", "0014d")
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Nothing to change: the branches touch separate tables."""


def downgrade() -> None:
    """Nothing to change."""
