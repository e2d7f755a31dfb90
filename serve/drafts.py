"""Reply drafts for the staff desk: a citizen's message → a reply staff can send as it is."""

from __future__ import annotations

from assistant.conversation import Conversation
from serve.presenter import helpdesk_draft


def reply_draft(message: str, assistant, settings) -> str:
    """The draft reply to a citizen's message."""
    return helpdesk_draft(assistant.ask(message, Conversation(), audience="helpdesk"))
