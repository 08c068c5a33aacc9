"""Approvals: workflows per request type, requests moving through approver steps, delegation, reminders and
escalation, and single-use action links that let an approver decide from an email or a push."""
