"""Moderation: flags gathered into cases, automatic rules in the send path, the review queue, actions, appeals."""
