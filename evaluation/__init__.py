"""Evaluation: the Q&A-set runner, its HTML report and the retrieval and answer benchmarks."""
