"""Prompts and answer templates are files in ``prompts/``, loaded by name and rendered strictly."""

from __future__ import annotations

import string
from functools import lru_cache
from pathlib import Path

from core.settings import PROJECT_ROOT

PROMPTS_DIR = PROJECT_ROOT / "prompts"
# The one refusal sentence: shared by the templates, the code and the tests.
REFUSAL = "抱歉，知识库中没有可以回答这个问题的政策依据。"


class PromptError(KeyError):
    """A template is missing or was rendered without one of its variables."""


@lru_cache(maxsize=64)
def _template(name: str, folder: str) -> string.Template:
    path = Path(folder) / f"{name}.txt"
    if not path.exists():
        raise PromptError(f"no prompt template {path}")
    return string.Template(path.read_text(encoding="utf-8").rstrip("\n"))


def render(name: str, folder: Path = PROMPTS_DIR, **variables: object) -> str:
    """Render ``prompts/<name>.txt``; a variable the template uses but was not given is an error."""
    try:
        return _template(name, str(folder)).substitute({"refusal": REFUSAL, **variables})
    except KeyError as exc:
        raise PromptError(f"prompt {name!r} needs variable {exc.args[0]!r}") from exc
