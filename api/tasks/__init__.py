"""Tasks: assignment with notification, a dependency graph without cycles, photo proof, checklists, comments,
and time tracking."""
