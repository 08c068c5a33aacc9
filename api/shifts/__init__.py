"""Planned shifts: one-off and weekly recurring, per person and workplace, never overlapping."""
