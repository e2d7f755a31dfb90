"""Indexing pipeline: load → clean → metadata → clauses → embed → store."""
