"""Join the reports branch and the privacy and audit-chain branch.

Revision ID: 0010
Revises: 0009r, 0008v
Create Date: 2026-11-25
"""

from __future__ import annotations

from collections.abc import Sequence

revision: str = "0010"
down_revision: tuple[str, ...] = ("0009r", "0008v")
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Nothing to change: the branches touch separate tables."""


def downgrade() -> None:
    """Nothing to change."""
