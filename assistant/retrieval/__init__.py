"""Retrieval: BM25, dense search and their fusion over one immutable index snapshot; the LangChain retriever."""
