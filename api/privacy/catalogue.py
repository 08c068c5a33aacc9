"""The personal data of the built-in domains, table by table (see :mod:`api.privacy.registry`).

Kept as ids, people stay pointed at after erasure: their ``app_user`` row becomes "Erased user",
so every reference reads as that pseudonym. What is theirs and free text they wrote is blanked;
secrets, sessions and subscriptions go.
"""

from __future__ import annotations

from api.privacy.registry import ERASED_NAME, PersonalData, register

_THEIR_MESSAGES = "message_id IN (SELECT id FROM message WHERE author_id = :user_id)"
_AT_WORKPLACE = "(SELECT w.{axis} FROM workplace AS w WHERE w.id = attendance_record.workplace_id)"

register(
    # -- identity ---------------------------------------------------------------------------------
    PersonalData(
        domain="profile",
        table="app_user",
        subject=("id",),
        references=("manager_id",),
        erase="scrub",
        scrub=("phone", "avatar_url", "password_hash", "locked_until"),
        rewrite={
            "name": f"'{ERASED_NAME}'",
            # Unique per tenant and non-routable (RFC 2606 reserves .invalid).
            "email": "'erased-' || replace(CAST(:user_id AS text), '-', '') || '@erased.invalid'",
            "status": "'disabled'",
        },
        omit=("password_hash", "failed_logins", "locked_until"),
    ),
    PersonalData(domain="profile", table="user_role", subject=("user_id",), erase="delete"),
    PersonalData(domain="profile", table="department", references=("head_user_id",)),
    PersonalData(domain="security", table="auth_session", subject=("user_id",), erase="delete"),
    PersonalData(domain="security", table="auth_challenge", subject=("user_id",), erase="delete"),
    PersonalData(domain="security", table="mfa_totp", subject=("user_id",), erase="delete"),
    PersonalData(domain="security", table="mfa_recovery_code", subject=("user_id",), erase="delete"),
    PersonalData(domain="security", table="password_reset", subject=("user_id",), erase="delete"),
    # Audit entries are pseudonymised by the erasure itself (persistence.audit_chain), not here.
    PersonalData(domain="audit", table="audit_event", subject=("actor_user_id",)),
    # Earlier exports are not exported again; erasure deletes them with their zips.
    PersonalData(
        domain="privacy",
        table="privacy_export",
        subject=("user_id",),
        references=("requested_by",),
        erase="delete",
        files="storage_key",
        export=False,
    ),
    # -- chat -------------------------------------------------------------------------------------
    PersonalData(domain="chat", table="conversation", references=("created_by",)),
    PersonalData(domain="chat", table="conversation_member", subject=("user_id",), erase="delete"),
    PersonalData(
        domain="chat",
        table="message",
        subject=("author_id",),
        erase="scrub",
        when="tombstone",
        rewrite={
            "body": "''",
            "mentions": "'{}'",
            "links": "'{}'",
            "attachment_ids": "'{}'",
            "mention_here": "false",
            "mention_channel": "false",
            "deleted_at": "coalesce(deleted_at, now())",
        },
        omit=("search_vector",),
    ),
    PersonalData(domain="chat", table="message", subject=("author_id",), when="anonymise", export=False),
    PersonalData(domain="chat", table="message_edit", rows_via=_THEIR_MESSAGES, erase="delete", when="tombstone"),
    PersonalData(
        domain="chat",
        table="conversation_event",
        rows_via=f"{_THEIR_MESSAGES} AND payload -> 'message' IS NOT NULL",
        erase="scrub",
        when="tombstone",
        rewrite={
            "payload": "jsonb_set(jsonb_set(jsonb_set(payload, '{message,body}', '\"\"'), '{message,links}', '[]'),"
            " '{message,deleted}', 'true')"
        },
        export=False,
    ),
    PersonalData(domain="chat", table="reaction", subject=("user_id",), erase="delete"),
    PersonalData(domain="chat", table="thread_follow", subject=("user_id",), erase="delete"),
    PersonalData(
        domain="chat",
        table="attachment",
        subject=("uploader_id",),
        erase="delete",
        files="storage_key",
        omit=("storage_key",),
    ),
    # -- notifications ----------------------------------------------------------------------------
    PersonalData(domain="notifications", table="notification", subject=("user_id",), erase="delete"),
    PersonalData(domain="notifications", table="notification_inbox", subject=("user_id",), erase="delete"),
    PersonalData(domain="notifications", table="notification_inbox_event", subject=("user_id",), erase="delete"),
    PersonalData(domain="notifications", table="notification_preference", subject=("user_id",), erase="delete"),
    PersonalData(domain="notifications", table="notification_settings", subject=("user_id",), erase="delete"),
    PersonalData(domain="notifications", table="notification_delivery", subject=("user_id",), erase="delete"),
    PersonalData(
        domain="notifications", table="push_subscription", subject=("user_id",), erase="delete", omit=("p256dh", "auth")
    ),
    PersonalData(
        domain="notifications", table="email_suppression", rows_via="lower(address) = lower(:email)", erase="delete"
    ),
    # -- moderation -------------------------------------------------------------------------------
    PersonalData(domain="moderation", table="moderation_rule", references=("created_by",)),
    PersonalData(domain="moderation", table="moderator_scope", subject=("user_id",), erase="delete"),
    PersonalData(
        domain="moderation",
        table="moderation_case",
        subject=("author_id",),
        references=("claimed_by", "closed_by"),
        erase="scrub",
        scrub=("content",),
    ),
    PersonalData(
        domain="moderation",
        table="moderation_action",
        subject=("target_user_id",),
        references=("moderator_id",),
        erase="scrub",
        scrub=("content",),
    ),
    PersonalData(
        domain="moderation", table="moderation_flag", subject=("reporter_id",), erase="scrub", scrub=("note",)
    ),
    PersonalData(
        domain="moderation", table="moderation_appeal", subject=("appellant_id",), erase="scrub", scrub=("statement",)
    ),
    PersonalData(domain="moderation", table="moderation_mute", subject=("user_id",), erase="delete"),
    # -- attendance, shifts, leave, overtime ------------------------------------------------------
    PersonalData(
        domain="attendance",
        table="attendance_record",
        subject=("user_id",),
        erase="scrub",
        # A stay keeps where it was (its workplace), not the phone's exact position.
        scrub=("clock_in_accuracy_m", "clock_out_accuracy_m"),
        rewrite={
            "clock_in_latitude": _AT_WORKPLACE.format(axis="latitude"),
            "clock_in_longitude": _AT_WORKPLACE.format(axis="longitude"),
            "clock_out_latitude": f"CASE WHEN clock_out_latitude IS NULL THEN NULL "
            f"ELSE {_AT_WORKPLACE.format(axis='latitude')} END",
            "clock_out_longitude": f"CASE WHEN clock_out_longitude IS NULL THEN NULL "
            f"ELSE {_AT_WORKPLACE.format(axis='longitude')} END",
        },
    ),
    PersonalData(domain="attendance", table="attendance_break", subject=("user_id",)),
    PersonalData(domain="attendance", table="attendance_daily", subject=("user_id",)),
    # Pending summary rebuilds: bookkeeping, not the person's data to take away.
    PersonalData(domain="attendance", table="attendance_change", subject=("user_id",), export=False),
    PersonalData(
        domain="attendance", table="workplace_assignment", subject=("user_id",), references=("assigned_by", "ended_by")
    ),
    PersonalData(domain="shifts", table="shift", subject=("user_id",), references=("created_by", "cancelled_by")),
    PersonalData(
        domain="shifts",
        table="shift_skip",
        rows_via="shift_id IN (SELECT id FROM shift WHERE user_id = :user_id)",
        references=("cancelled_by",),
    ),
    PersonalData(
        domain="leave",
        table="leave_request",
        subject=("user_id",),
        references=("decided_by",),
        erase="scrub",
        scrub=("reason",),
    ),
    PersonalData(
        domain="overtime",
        table="overtime_record",
        subject=("user_id",),
        references=("decided_by",),
        erase="scrub",
        scrub=("note",),
    ),
    # -- tasks ------------------------------------------------------------------------------------
    PersonalData(domain="tasks", table="task", subject=("assignee_id",), references=("created_by",)),
    PersonalData(domain="tasks", table="task_template", references=("assignee_id", "created_by")),
    PersonalData(domain="tasks", table="task_checklist_item", references=("done_by",)),
    PersonalData(domain="tasks", table="task_comment", subject=("author_id",), erase="scrub", scrub=("body",)),
    PersonalData(domain="tasks", table="task_time_entry", subject=("user_id",), erase="scrub", scrub=("note",)),
    PersonalData(domain="tasks", table="task_attachment", references=("added_by",)),
    # -- assets, incidents, maintenance -----------------------------------------------------------
    PersonalData(
        domain="assets", table="asset_condition_entry", subject=("changed_by",), erase="scrub", scrub=("note",)
    ),
    PersonalData(
        domain="incidents",
        table="incident",
        subject=("reported_by",),
        erase="scrub",
        scrub=("description", "latitude", "longitude"),
    ),
    PersonalData(domain="incidents", table="incident_person", subject=("user_id",)),
    PersonalData(domain="incidents", table="incident_step", subject=("actor_id",), erase="scrub", scrub=("note",)),
    PersonalData(
        domain="maintenance",
        table="maintenance_request",
        subject=("requested_by",),
        references=("assignee_id",),
        erase="scrub",
        scrub=("description",),
    ),
    PersonalData(
        domain="maintenance", table="maintenance_comment", subject=("author_id",), erase="scrub", scrub=("body",)
    ),
    PersonalData(domain="maintenance", table="maintenance_step", subject=("actor_id",), erase="scrub", scrub=("note",)),
    PersonalData(domain="maintenance", table="maintenance_sla", references=("updated_by",)),
    # -- reports ----------------------------------------------------------------------------------
    # Their schedules stop with them (runs cascade); a schedule of someone else mailing them loses the
    # address in the sweep of quotes.
    PersonalData(domain="reports", table="report_schedule", subject=("owner_id",), erase="delete"),
    # -- approvals --------------------------------------------------------------------------------
    PersonalData(
        domain="approvals",
        table="approval_request",
        subject=("requester_id",),
        references=("submitted_by", "decided_by"),
    ),
    PersonalData(domain="approvals", table="approval_approver", subject=("approver_id",), references=("acted_by",)),
    PersonalData(
        domain="approvals",
        table="approval_event",
        subject=("actor_id",),
        references=("on_behalf_of",),
        erase="scrub",
        scrub=("comment",),
    ),
    PersonalData(
        domain="approvals", table="approval_delegation", subject=("delegator_id", "delegate_id"), erase="delete"
    ),
    PersonalData(domain="approvals", table="approval_link", subject=("user_id",), erase="delete"),
)
