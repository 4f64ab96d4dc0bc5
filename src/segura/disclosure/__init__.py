"""Statistical disclosure control for published count tables (cell suppression).

Primary suppression flags counts below a threshold; secondary suppression hides enough other
cells that no flagged count can be recovered from the published ones, across every table of a
measure. `protect` returns SDMX CONF_STATUS flags; `suppress_cells` also says which cells no pattern
can protect.
"""

from segura.disclosure.cube import Axis, Table
from segura.disclosure.suppress import Suppression, protect, suppress_cells

__all__ = ["Axis", "Suppression", "Table", "protect", "suppress_cells"]
