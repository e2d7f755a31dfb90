"""What of a long question the dense search embeds: its asking part, within a bounded number of characters.

The embedder's cost grows faster than the text (a 1,000-character question costs ~50 times a 21-character one on
one core: attention over two 512-token windows), while an owner's long message is mostly the background of one
question. BM25 and the bigram coverage still read the whole text; only the vector is made from less of it. A
question within the bound is embedded exactly as it is."""

from __future__ import annotations

import re

# Sentence ends: a question's parts are split after these (kept with their sentence).
_SENTENCE = re.compile(r"[^。！？!?；;\n]*[。！？!?；;\n]+|[^。！？!?；;\n]+$")
# What marks a sentence as asking (as opposed to describing the asker): a question mark or a question word.
_ASKS = re.compile(r"[？?]|吗|呢|多少|几|怎么|怎样|如何|哪|什么|是否|能否|可否|可以.*[吗么]|有没有|能不能|是不是|要不要")


def sentences(text: str) -> list[str]:
    """The text's sentences in order, each with its closing mark."""
    return [s for s in _SENTENCE.findall(text) if s.strip()]


def asking_part(text: str, max_chars: int) -> str:
    """``text`` itself when it is at most ``max_chars`` long; else its asking sentences (the last ones first, kept in
    their order) within ``max_chars``, topped up with the sentences nearest before them; a single asking sentence
    over the bound keeps its end, where the asked words stand. 0 means no bound."""
    if max_chars <= 0 or len(text) <= max_chars:
        return text
    parts = sentences(text)
    asking = [i for i, s in enumerate(parts) if _ASKS.search(s)] or [len(parts) - 1]
    chosen: set[int] = set()
    left = max_chars
    for i in reversed(asking):
        if len(parts[i].strip()) <= left:
            chosen.add(i)
            left -= len(parts[i].strip())
    if not chosen:  # the last asking sentence alone is over the bound: its end
        return parts[asking[-1]].strip()[-max_chars:]
    for i in range(max(chosen) - 1, -1, -1):  # background nearest the question, while it fits
        if i not in chosen and len(parts[i].strip()) <= left:
            chosen.add(i)
            left -= len(parts[i].strip())
    return "".join(parts[i].strip() for i in sorted(chosen))
