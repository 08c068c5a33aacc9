"""Join the branches of the second wave: message search, approvals, shifts/leave/overtime, recurring tasks and the board, assets/incidents/maintenance.

Revision ID: 0009
Revises: 0008h, 0008p, 0008a, 0008t, 0008s
Create Date: 2026-11-25
"""

from __future__ import annotations

from collections.abc import Sequence

revision: str = "0009"
down_revision: tuple[str, ...] = ("0008h", "0008p", "0008a", "0008t", "0008s")
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Nothing to change: the branches touch separate tables."""


def downgrade() -> None:
    """Nothing to change."""
