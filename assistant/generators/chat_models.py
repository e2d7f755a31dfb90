"""The chat models an LLM generator can write with, made from the settings: a local GGUF file through
LangChain's ``ChatLlamaCpp`` (llama-cpp-python, the optional extra in requirements-llm.txt), or any
OpenAI-compatible endpoint through ``ChatOpenAI``. Each is made once per settings object and loaded lazily."""

from __future__ import annotations

import importlib.util
import logging

from langchain_core.language_models import BaseChatModel
from pydantic import SecretStr

from core.errors import LLMUnavailableError

log = logging.getLogger(__name__)


def local_chat_model(settings) -> BaseChatModel:
    """The local model: greedy decoding, answers of at most ``llm_max_tokens``, on ``llm_threads`` threads."""
    path = settings.resolved_llm_model_path()
    if not path.exists():
        raise LLMUnavailableError(f"no local model at {path} (POLICYQA_LLM_MODEL_PATH): run `make model`")
    if importlib.util.find_spec("llama_cpp") is None:
        raise LLMUnavailableError("llama-cpp-python is not installed: run `make setup-llm`")
    from langchain_community.chat_models import ChatLlamaCpp

    log.info("loading the local model %s", path)
    return ChatLlamaCpp(
        model_path=str(path),
        n_ctx=settings.llm_n_ctx,
        n_threads=settings.llm_threads,
        n_batch=512,  # the default (8) reads the prompt eight tokens at a time: several times slower
        max_tokens=settings.llm_max_tokens,
        temperature=0.0,
        repeat_penalty=1.05,
        verbose=False,
    )


def openai_chat_model(settings) -> BaseChatModel:
    """A model behind any OpenAI-compatible endpoint; a call is abandoned after ``llm_timeout_seconds`` and
    never retried (the extractive answer is shown instead)."""
    if not settings.llm_base_url:
        raise LLMUnavailableError("generator 'openai' needs POLICYQA_LLM_BASE_URL (an OpenAI-compatible endpoint)")
    from langchain_openai import ChatOpenAI

    return ChatOpenAI(
        base_url=settings.llm_base_url,
        model=settings.llm_model,
        api_key=settings.llm_api_key or SecretStr("not-needed"),  # local servers want some key
        timeout=settings.llm_timeout_seconds,
        max_retries=0,
        max_tokens=settings.llm_max_tokens,
        temperature=0.0,
    )
