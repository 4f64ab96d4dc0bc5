"""The sample observatory shipped with Segura: Guanajuato and Morelos, 2014-2015.

Real territory, population and homicide counts (INEGI, CONAPO; see DATA_LICENSES.md) and
synthetic extracts from three institutions (police, forensic medicine, prosecutors) of
the same victims, with a known truth. Used by `segura demo`, the tests and the benchmarks.
The conflict registry's demo imports deaths in Bolivian political conflict, 1984-2024
(Ultimate Consequences database, CC BY 4.0; no names).
"""

from __future__ import annotations

from segura.sample.extract import BrokenRow
from segura.sample.generate import SampleSummary, generate_sample
from segura.sample.packaged import mapping_path, packaged_path
from segura.sample.police import write_police_csv

__all__ = ["BrokenRow", "SampleSummary", "generate_sample", "mapping_path", "packaged_path", "write_police_csv"]
