"""Reports: built-in templates aggregated in SQL over the caller's scope, as JSON, streamed CSV and charts in
the browser, and schedules the worker runs and mails as CSV with a signed link to the kept output."""
