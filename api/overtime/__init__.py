"""Overtime: the tenant's rules turn worked time into overtime records that go to approval."""
