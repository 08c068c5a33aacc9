"""Public holidays: each tenant's calendar of days off, which leave, overtime, timesheets and lateness respect."""
