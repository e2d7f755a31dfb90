"""Fakes that keep meaning: a hashing embedder that still ranks related texts together."""

from __future__ import annotations

import hashlib
import math
import time


class HashingEmbedder:
    """Bag of character bigrams hashed into a fixed-size, L2-normalised vector."""

    def __init__(self, dim: int = 512, name: str = "fake:bigram-hash", delay: float = 0.0, fail_after: int | None = None):
        self.dim = dim
        self.name = name
        self.delay = delay
        self.fail_after = fail_after
        self.calls = 0
        self.embedded: list[str] = []

    def embed_batch(self, texts: list[str], kind: str = "passage") -> list[list[float]]:
        if self.fail_after is not None and self.calls >= self.fail_after:
            raise RuntimeError("simulated crash while embedding")
        self.calls += 1
        if self.delay:
            time.sleep(self.delay)
        self.embedded.extend(texts)
        return [self._vector(text) for text in texts]

    def _vector(self, text: str) -> list[float]:
        vector = [0.0] * self.dim
        for a, b in zip(text, text[1:], strict=False):
            bucket = int(hashlib.md5((a + b).encode()).hexdigest()[:8], 16) % self.dim
            vector[bucket] += 1.0
        norm = math.sqrt(sum(v * v for v in vector)) or 1.0
        return [v / norm for v in vector]
