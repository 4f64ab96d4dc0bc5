"""The exceptions Segura raises for its own failures.

Findings about input data are not exceptions: they are `Issue` rows in a `Report`
(see `segura.ingest.report`). Exceptions are translated to exit codes or HTTP
answers only at the edges (`segura.cli`, `segura.portal`).
"""

from __future__ import annotations


class SeguraError(Exception):
    """Root of every error Segura raises on purpose."""

    exit_code = 1


class ConfigError(SeguraError):
    """A setting in segura.toml is missing, unknown or has the wrong type."""

    exit_code = 2


class MappingError(SeguraError):
    """A source mapping (sources/*.yaml) is invalid."""

    exit_code = 2


class WorkspaceError(SeguraError):
    """The workspace folder is missing or is not a Segura workspace."""

    exit_code = 2


class ExtractRejected(SeguraError):
    """A whole extract cannot be read (empty, wrong columns, unsafe XLSX...).

    The load is recorded with status 'rejected' and the message; no row enters the warehouse.
    """

    exit_code = 3

    def __init__(self, message: str, *, file: str | None = None) -> None:
        super().__init__(message)
        self.file = file


class TerritoryImportError(SeguraError):
    """A territory or population file has findings that stop its import."""

    exit_code = 3


class ReviewError(SeguraError):
    """A review command names a decision, record or verdict that does not exist."""

    exit_code = 2
