"""Invitations and reminders through the delivery ledger: each message sent at most once.

Each module does one thing: texts.py (each language's own subject and opening, rendered once per
batch), samples.py (the editor's preview and a staff member's test message, outside the ledger),
batches.py (who is due, queueing a batch, waking the workers), ledger.py (claiming rows,
marking them in flight, recording outcomes, recovering after a crash), sending.py (the worker's
loop through the transport of services/mail), status.py (where each fellow and batch stands) and
links.py (personal and opt-out links, the opt-out itself). docs/invitations.md explains the ledger.
"""
from .batches import (
    count_recipients,
    create_batch,
    next_reminder_round,
    resend,
    run_scheduled_reminders,
    save_schedule,
    send_invitations,
    send_reminders,
    wake_workers,
)
from .ledger import ACTIVE_STATES, pending_batch_ids, recover_stale
from .links import delete_invitation_data, find_by_optout_token, opt_out, optout_link, personal_link
from .samples import Preview, deliver_test, preview, send_test
from .sending import BatchRun, process_batch, resume_pending, send_pending, sweep
from .status import (
    STATUS_ORDER,
    BatchProgress,
    ParticipantPage,
    ParticipantRow,
    ParticipantStatus,
    batch_progress,
    delivery_counts,
    get_batch,
    list_participants,
    participant_deliveries,
    recent_batches,
    status_counts,
)
from .texts import (
    TEXT_KEYS,
    EditableText,
    TextState,
    editable_texts,
    renderer,
    save_texts,
    survey_languages,
    text_states,
    texts_for,
)

__all__ = [
    "ACTIVE_STATES", "STATUS_ORDER", "TEXT_KEYS",
    "BatchProgress", "BatchRun", "EditableText", "ParticipantPage", "ParticipantRow", "ParticipantStatus", "Preview",
    "TextState",
    "batch_progress", "count_recipients", "create_batch", "delete_invitation_data", "deliver_test", "delivery_counts",
    "editable_texts", "send_test", "survey_languages", "text_states",
    "find_by_optout_token", "get_batch", "list_participants", "next_reminder_round", "opt_out", "optout_link",
    "participant_deliveries", "pending_batch_ids", "personal_link", "preview", "process_batch", "recent_batches",
    "recover_stale", "renderer", "resend", "resume_pending", "run_scheduled_reminders", "save_schedule", "save_texts",
    "send_invitations", "send_pending", "send_reminders", "status_counts", "sweep", "texts_for", "wake_workers",
]
