"""The few named errors of the indexing pipeline."""


class IndexingError(Exception):
    """Base class: a problem the user can act on."""


class DocumentError(IndexingError):
    """One document cannot be read or yields no policy text; it is reported and skipped."""

    def __init__(self, source: str, reason: str):
        super().__init__(f"{source}: {reason}")
        self.source = source
        self.reason = reason


class CatalogError(IndexingError):
    """The metadata catalog is malformed."""


class IndexMissingError(IndexingError):
    """No index has been built yet in the data directory."""
