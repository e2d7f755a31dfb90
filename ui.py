"""The chat page: ``python ui.py`` serves it on the settings' host and port (127.0.0.1:7860 by default)."""

from __future__ import annotations

import logging
import os
import sys

os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")
os.environ.setdefault("ANONYMIZED_TELEMETRY", "False")
os.environ.setdefault("HF_HUB_OFFLINE", "1")


def main() -> int:
    """Build the index if there is none, then serve the page; a setup mistake is one line and exit code 2."""
    from core.errors import PolicyQAError

    try:
        return _serve()
    except PolicyQAError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2


def _serve() -> int:
    from core.settings import load_settings
    from index.build import build, index_dir
    from index.embeddings import make_embedder
    from index.store import IndexStore
    from serve.feedback import FeedbackStore
    from serve.web import Page, launch

    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s: %(message)s")
    settings = load_settings()
    embedder = make_embedder(settings)

    def reindex() -> str:
        result = build(settings, embedder, progress=False)
        skipped = "".join(f"；跳过 {e.source}（{e.reason}）" for e in result.skipped)
        return f"索引已更新：{len(result.generation.docs)} 份文件，{len(result.generation.clauses)} 个条款，新嵌入 {result.embedded} 个{skipped}。"

    if IndexStore(index_dir(settings)).current() is None:
        print("building the index first…")
        reindex()
    from assistant.chain import Assistant
    from assistant.retrieval.knowledge import KnowledgeBase

    assistant = Assistant(KnowledgeBase.open(settings, embedder), settings)
    page = Page(assistant, FeedbackStore(settings.data_dir / "feedback.sqlite"), settings, reindex=reindex)
    page.warm_up()
    print(f"政策在线答疑: http://{settings.host}:{settings.port}")
    launch(page)
    return 0


if __name__ == "__main__":
    sys.exit(main())
