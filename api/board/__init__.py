"""The supervisor's live board: who is in where, who is late, open incidents and overdue tasks, per workplace,
kept live by hub events on the tenant's board topic."""
