"""Segura: the integrated citizen security information system.

The public API is small: open a `Workspace`, load extracts, check the warehouse.
"""

from segura.errors import ExtractRejected, MappingError, SeguraError
from segura.settings import Settings
from segura.workspace import Workspace

__all__ = ["ExtractRejected", "MappingError", "SeguraError", "Settings", "Workspace"]
__version__ = "0.1.0"
