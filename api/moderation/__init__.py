"""Moderation over HTTP: flags, the review queue, actions, rules, appeals, scopes and the audit export."""
