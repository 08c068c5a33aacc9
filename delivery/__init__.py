"""Notifications: categories, preferences, the in-app inbox, routing, and the email and push senders."""
