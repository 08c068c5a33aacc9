"""Workplaces: stores and sites, their geofences and time zones, and who is assigned to each."""
