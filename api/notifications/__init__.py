"""Notifications over HTTP: send, the inbox, categories, preferences, push subscriptions, deliveries, unsubscribe."""
