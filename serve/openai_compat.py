"""The OpenAI chat-completions shapes: a request's messages in, the answer out as a completion or as SSE chunks
ending with ``data: [DONE]``, the cited clauses in an extra ``references`` field (OpenAI clients keep unknown fields)."""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import Iterator
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from assistant.types import Answer
from serve.presenter import stream_chunks

MODEL_PREFIX = "policyqa-"


class ChatMessage(BaseModel):
    """One message of the conversation, as OpenAI clients send it (text content only)."""

    model_config = ConfigDict(extra="ignore")
    role: Literal["system", "user", "assistant", "developer", "tool"]
    content: str | list[dict] | None = None


class ChatCompletionRequest(BaseModel):
    """What an OpenAI client posts; sampling options (temperature, top_p …) are accepted and ignored: the answer
    quotes clauses, nothing is sampled."""

    model_config = ConfigDict(extra="ignore")
    model: str = Field("policyqa", max_length=100)
    messages: list[ChatMessage] = Field(..., min_length=1, max_length=50)
    stream: bool = False
    user: str | None = Field(None, max_length=200)


def message_text(message: ChatMessage) -> str:
    """A message's text: its string, or the text parts of a multi-part content."""
    if isinstance(message.content, str):
        return message.content
    return "".join(str(part.get("text", "")) for part in message.content or [] if part.get("type") == "text")


def user_turns(request: ChatCompletionRequest) -> list[str]:
    """The user's messages in order: the last one is the question, the others its history."""
    return [message_text(m) for m in request.messages if m.role == "user"]


def references(answer: Answer) -> list[dict]:
    """The cited clauses: key, document, 文号, clause path, the clause text and the sentences the answer quoted."""
    return [
        {"key": c.key, "doc_id": c.clause.doc.doc_id, "title": c.clause.doc.title, "doc_number": c.clause.doc.doc_number,
         "clause": c.clause.clause_path, "reference": c.clause.reference, "text": c.clause.text,
         "sentences": list(c.sentences)}
        for c in answer.citations
    ]


def completion(answer: Answer, model: str) -> dict:
    """A ``chat.completion`` object holding the answer."""
    return {
        "id": f"chatcmpl-{uuid.uuid4().hex}",
        "object": "chat.completion",
        "created": int(time.time()),
        "model": model,
        "choices": [{"index": 0, "message": {"role": "assistant", "content": answer.text}, "finish_reason": "stop"}],
        "usage": {"prompt_tokens": 0, "completion_tokens": 0, "total_tokens": 0},
        "references": references(answer),
        "refused": answer.refused,
        "reason": answer.reason,
    }


def completion_chunks(answer: Answer, model: str, size: int = 24) -> Iterator[str]:
    """The answer as server-sent events of ``chat.completion.chunk`` objects: the role, the text piece by piece,
    then the finish reason with the references; then ``data: [DONE]``."""
    base = {"id": f"chatcmpl-{uuid.uuid4().hex}", "object": "chat.completion.chunk", "created": int(time.time()),
            "model": model}

    def event(delta: dict, finish: str | None = None, **extra) -> str:
        chunk = {**base, "choices": [{"index": 0, "delta": delta, "finish_reason": finish}], **extra}
        return f"data: {json.dumps(chunk, ensure_ascii=False)}\n\n"

    yield event({"role": "assistant", "content": ""})
    sent = 0
    for prefix in stream_chunks(answer.text, size):
        yield event({"content": prefix[sent:]})
        sent = len(prefix)
    yield event({}, "stop", references=references(answer), refused=answer.refused, reason=answer.reason)
    yield "data: [DONE]\n\n"
