"""Lexical retrieval: BM25 (bm25s) over jieba words and character bigrams of the simplified text."""

from __future__ import annotations

import logging
import re
import unicodedata
from functools import lru_cache

import numpy as np

from core.textnorm import to_simplified

log = logging.getLogger(__name__)
DOMAIN_WORDS = ("专精特新", "小巨人", "瞪羚", "单项冠军", "独角兽", "贴息", "孵化器", "首台套", "征求意见稿", "上云用云")
STOPWORDS = frozenset(
    "的 了 和 与 及 或 等 对 在 为 是 有 吗 呢 吧 啊 呀 么 哪些 哪个 什么 多少 怎么 怎样 如何 是否 可以 能 能否 会 "
    "一 个 这 那 那么 还 也 都 就 要 给 被 把 从 向 到 于 以 之 其 该 各 我 我们 你 您 他 它 请问 请 一下 一些 "
    "有没有 没有 不 吧 呢 嘛 哦 啥 几 里 中 上 下 时 后 前 人家 咱们 俺们 这边 那边 这块 那块".split()
)
# Words that frame a question rather than say what it is about; they do not count towards support.
FRAMING_WORDS = frozenset(
    "计划 政策 规定 相关 有关 方面 具体 情况 内容 要求 几个 几家 几年 几户 多少 怎么 怎样 如何 什么 哪些 现在 目前 "
    "可以 能够 能否 是否 需要 应该 请问 一下 咨询 了解 分别 哪里 享受 "
    # How people frame a question in everyday words: they ask, they do not say what about.
    "够不够 算不算 能不能 有没有 行不行 可不可以 是不是 出不出 给不给 管不管 还有没有 有无 咋办 怎么办 "
    "哪几个 哪几种 听说 想问 问问 请教 打听 麻烦 谢谢 具体点 详细 详细点 一点 东西 时候 地方 情况下 "
    "文件 为准 以哪个为准 "
    # Everyday verbs of doing that say nothing about what is done: 搞了个技术攻关, 弄个平台.
    "搞 搞了 搞了个 搞个 搞的 弄 弄了 弄个 做了个".split()
)
_ASKING_PREFIX = re.compile(r"^(哪些|哪个|哪种|哪类|哪家|哪几|什么|多少)(?=..)")
_FRAMING_SUFFIX = re.compile(r"(?<=..)(政策|方面|情况)$")
_FRAMING = re.compile("|".join(sorted(FRAMING_WORDS, key=len, reverse=True)))
_TOKEN_OK = re.compile(r"[\u4e00-\u9fffA-Za-z0-9%.+]")
_CJK_RUN = re.compile(r"[\u4e00-\u9fff]+")


@lru_cache(maxsize=1)
def _jieba():
    import jieba

    jieba.setLogLevel(logging.WARNING)
    from assistant.vocabulary import default_vocabulary

    # The policy terms of the vocabulary stay whole, so that the support judgment sees them as one word.
    for word in (*DOMAIN_WORDS, *sorted(default_vocabulary().policy_terms())):
        if not jieba.dt.FREQ.get(word):
            jieba.add_word(word, tag="n")
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


# Parts of speech that never say what a question is about (pronouns, adverbs, conjunctions, particles …);
# verbs say less than nouns ("享受", "设在" frame the question, "公租房" is its subject).
_FUNCTION_POS = ("r", "d", "c", "p", "u", "y", "e", "o", "q", "f", "x", "w", "t", "z")
VERB_WEIGHT = 0.5  # verbs and adjectives


def content_terms(text: str) -> dict[str, float]:
    """The words that say what a question is about, each with a weight (nouns 1, verbs less, function words out)."""
    import jieba.posseg

    _jieba()
    terms: dict[str, float] = {}
    for pair in jieba.posseg.lcut(normalize(text)):
        word, flag = pair.word, pair.flag
        if len(word) < 2 or word in STOPWORDS or not _TOKEN_OK.search(word):
            continue
        if flag.startswith(_FUNCTION_POS) or (flag.startswith("m") and not re.search(r"\d", word)):
            continue
        word = _bare(word)
        if word in FRAMING_WORDS:
            continue
        terms[word] = max(terms.get(word, 0.0), VERB_WEIGHT if flag in ("v", "vd", "a", "ad", "vi", "i", "l") else 1.0)
    return terms


def _bare(word: str) -> str:
    """A word without the asking or framing part glued to it ("哪些项目" → 项目, "优惠政策" → 优惠), which says
    nothing about what is asked; at least two characters stay."""
    return _FRAMING_SUFFIX.sub("", _ASKING_PREFIX.sub("", word))


def subwords(word: str) -> list[str]:
    """The shorter words a compound is made of, tiling it exactly (贷款额度 → 贷款 + 额度); [] if none do."""
    pieces = {w for w in _jieba().lcut_for_search(word) if len(w) >= 2 and w != word}
    best: dict[int, list[str]] = {0: []}
    for start in range(len(word)):
        if start not in best:
            continue
        for piece in pieces:
            end = start + len(piece)
            if word.startswith(piece, start) and (end not in best or len(best[end]) > len(best[start]) + 1):
                best[end] = best[start] + [piece]
    return best.get(len(word), [])


def without_framing(text: str) -> str:
    """The question without the words that only frame it ("请问", "分别", "有哪些" …)."""
    return _FRAMING.sub(" ", text)


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

    def words(self) -> list[str]:
        """The words (not bigrams) of the indexed texts."""
        return [token for token in self._bm25.vocab_dict if not token.startswith("#")]

    def scores(self, query: str) -> np.ndarray:
        """One BM25 score per indexed text (0 where nothing matches)."""
        tokens = tokenize(query)
        if not tokens or not self.size:
            return np.zeros(self.size, dtype=np.float32)
        known = [t for t in tokens if t in self._bm25.vocab_dict]
        if not known:
            return np.zeros(self.size, dtype=np.float32)
        return np.asarray(self._bm25.get_scores(known), dtype=np.float32)
