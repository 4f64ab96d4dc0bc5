"""Integrity checks over the warehouse, in the manner of DHIS2's data integrity checks."""

from segura.quality.checks import CHECKS, CheckResult, run_checks

__all__ = ["CHECKS", "CheckResult", "run_checks"]
