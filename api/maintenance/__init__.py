"""Maintenance: requests on an asset or a workplace, due by the tenant's SLA for their priority, worked through
their statuses with history and comments; the worker reports missed SLAs to the assignee and the supervisors."""
