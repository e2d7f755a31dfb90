"""Lexical retrieval: BM25 (bm25s) over jieba words and character bigrams of the simplified text."""

from __future__ import annotations

import logging
import re
import unicodedata
from functools import lru_cache

import numpy as np

from index.textnorm import to_simplified

log = logging.getLogger(__name__)
DOMAIN_WORDS = ("专精特新", "小巨人", "瞪羚", "单项冠军", "独角兽", "贴息", "孵化器", "首台套", "征求意见稿", "上云用云")
STOPWORDS = frozenset(
    "的 了 和 与 及 或 等 对 在 为 是 有 吗 呢 吧 啊 呀 么 哪些 哪个 什么 多少 怎么 怎样 如何 是否 可以 能 能否 会 "
    "一 个 这 那 那么 还 也 都 就 要 给 被 把 从 向 到 于 以 之 其 该 各 我 我们 你 您 他 它 请问 请 一下 一些 "
    "有没有 没有 不 吧 呢 嘛 哦 啥 几 里 中 上 下 时 后 前".split()
)
_TOKEN_OK = re.compile(r"[\u4e00-\u9fffA-Za-z0-9%.+]")
_CJK_RUN = re.compile(r"[\u4e00-\u9fff]+")


@lru_cache(maxsize=1)
def _jieba():
    import jieba

    jieba.setLogLevel(logging.WARNING)
    for word in DOMAIN_WORDS:
        jieba.add_word(word)
    return jieba


def normalize(text: str) -> str:
    """Simplified script, NFKC (full-width to half-width), lower case."""
    return unicodedata.normalize("NFKC", to_simplified(text)).lower()


def words(text: str) -> list[str]:
    """Content words of a text (jieba search mode), without stopwords and punctuation."""
    return [
        token for token in _jieba().lcut_for_search(normalize(text))
        if token.strip() and token not in STOPWORDS and _TOKEN_OK.search(token)
    ]


def precise_words(text: str) -> list[str]:
    """Content words in jieba's precise mode (no overlapping sub-words), without stopwords."""
    return [
        token for token in _jieba().lcut(normalize(text))
        if token.strip() and token not in STOPWORDS and _TOKEN_OK.search(token)
    ]


def bigrams(text: str) -> list[str]:
    """Character bigrams inside runs of Chinese characters."""
    grams: list[str] = []
    for run in _CJK_RUN.findall(normalize(text)):
        grams.extend(run[i : i + 2] for i in range(len(run) - 1))
    return grams


def tokenize(text: str) -> list[str]:
    """The BM25 vocabulary: content words plus character bigrams (bigrams catch what segmentation splits)."""
    return words(text) + ["#" + gram for gram in bigrams(text)]


class BM25Index:
    """BM25 over a fixed list of texts; scores every text for a query."""

    def __init__(self, texts: list[str], k1: float = 1.2, b: float = 0.75):
        import bm25s

        logging.getLogger("bm25s").setLevel(logging.WARNING)
        self.size = len(texts)
        self._bm25 = bm25s.BM25(k1=k1, b=b)
        corpus = [tokenize(text) or ["<empty>"] for text in texts]
        self._bm25.index(corpus, show_progress=False)

    def scores(self, query: str) -> np.ndarray:
        """One BM25 score per indexed text (0 where nothing matches)."""
        tokens = tokenize(query)
        if not tokens or not self.size:
            return np.zeros(self.size, dtype=np.float32)
        known = [t for t in tokens if t in self._bm25.vocab_dict]
        if not known:
            return np.zeros(self.size, dtype=np.float32)
        return np.asarray(self._bm25.get_scores(known), dtype=np.float32)
