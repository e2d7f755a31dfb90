"""The product's few named errors. Each is raised where it is detected and turned into one plain line at the edge
(the command lines print ``error: …`` and exit with code 2)."""


class PolicyQAError(Exception):
    """Base class: a problem the user can act on."""


class ConfigError(PolicyQAError):
    """A setting or the setup is wrong: a bad ``POLICYQA_*`` value, a missing corpus folder, a data directory
    that is a file."""


class CatalogError(ConfigError):
    """The metadata catalog is malformed."""


class IndexingError(PolicyQAError):
    """Building or opening the index failed in a way the user can act on."""


class DocumentError(IndexingError):
    """One document cannot be read or yields no policy text; it is reported and skipped."""

    def __init__(self, source: str, reason: str):
        super().__init__(f"{source}: {reason}")
        self.source = source
        self.reason = reason


class IndexMissingError(IndexingError):
    """No index has been built yet in the data directory."""


class EmptyCorpusError(IndexingError):
    """The corpus yields no document at all (empty, or every file unreadable): nothing is published."""


class BuildLockedError(IndexingError):
    """Another build holds the index directory's build lock."""


class GenerationMissingError(IndexingError):
    """The vector store holds no vectors for the index generation asked for (dropped, or never built)."""


class ServiceUnavailableError(PolicyQAError):
    """A server the product needs (the Chroma server, the database) cannot be reached; it may come back."""


class VectorStoreUnavailableError(ServiceUnavailableError):
    """The Chroma server does not answer."""


class DatabaseUnavailableError(ServiceUnavailableError):
    """The conversations and feedback database does not answer."""


class LLMUnavailableError(PolicyQAError):
    """The LLM generator cannot be made: the local model file or llama-cpp-python is missing, or the endpoint is
    not configured. (A model that fails while answering is not an error: the extractive answer is shown.)"""
