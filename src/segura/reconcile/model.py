"""The linkage model: Splink comparisons made for Spanish names and institutional records.

Comparisons: first given name (nicknames resolved, term-frequency adjusted), surnames in either
order or one missing (term-frequency adjusted), sex, age (exact, within 2 years, within 6 when one
side is an estimate), event date (a complaint comes days after a death), municipality (same,
neighbouring, same state), identity document. Blocking rules are equality keys only, so that no
rule compares every record of a state with every other: common names make big blocks, and they
are capped with `max_pairs` in training.
"""

from __future__ import annotations

from typing import Any

import splink.comparison_level_library as cll
import splink.comparison_library as cl
from splink import SettingsCreator, block_on

PREDICTION_BLOCKS = (
    ("document_number",),
    ("surnames_sorted", "given_1"),
    ("surname_1", "given_1", "territory_code"),
    ("surname_2", "given_1", "territory_code"),  # a typo in the first surname
    ("given_1", "territory_code", "age"),  # a typo in a surname and a complaint weeks later
    ("territory_code", "event_date", "sex"),
    ("territory_code", "event_week", "sex", "age"),  # unidentified, a few days apart
    ("parent_code", "event_date", "sex", "age"),  # placed in a neighbouring municipality
)
TRAINING_BLOCKS = (
    ("territory_code", "event_date"),  # trains names, sex, age, document
    ("surnames_sorted", "given_1"),  # trains date, place, sex, age
)


def settings() -> SettingsCreator:
    surnames = cl.CustomComparison(
        output_column_name="surnames",
        comparison_levels=[
            cll.CustomLevel("surname_1_l IS NULL OR surname_1_r IS NULL").configure(is_null_level=True),
            cll.ExactMatchLevel("surnames_sorted", term_frequency_adjustments=True).configure(label_for_charts="same surnames, either order"),
            cll.CustomLevel(
                "surname_1_l = surname_1_r AND (surname_2_l IS NULL OR surname_2_r IS NULL)", "first surname, second missing"
            ),
            cll.CustomLevel("jaro_winkler_similarity(surnames_sorted_l, surnames_sorted_r) >= 0.92", "surnames JW >= 0.92"),
            cll.CustomLevel(
                "surname_1_l IN (surname_1_r, surname_2_r) OR surname_2_l IN (surname_1_r, surname_2_r)", "one surname shared"
            ),
            cll.ElseLevel(),
        ],
    )
    given = cl.CustomComparison(
        output_column_name="given_name",
        comparison_levels=[
            cll.NullLevel("given_1"),
            cll.ExactMatchLevel("given_all", term_frequency_adjustments=True),
            cll.ExactMatchLevel("given_1", term_frequency_adjustments=True),
            cll.JaroWinklerLevel("given_all", 0.92),
            cll.JaroWinklerLevel("given_1", 0.85),
            cll.ElseLevel(),
        ],
    )
    age = cl.CustomComparison(
        output_column_name="age",
        comparison_levels=[
            cll.NullLevel("age"),
            cll.ExactMatchLevel("age"),
            cll.CustomLevel("abs(age_l - age_r) <= 2", "within 2 years"),
            cll.CustomLevel("(age_is_estimate_l OR age_is_estimate_r) AND abs(age_l - age_r) <= 6", "estimated, within 6"),
            cll.ElseLevel(),
        ],
    )
    place = cl.CustomComparison(
        output_column_name="territory",
        comparison_levels=[
            cll.NullLevel("territory_code"),
            cll.ExactMatchLevel("territory_code"),
            cll.CustomLevel("list_contains(neighbours_l, territory_code_r)", "neighbouring"),
            cll.ExactMatchLevel("parent_code"),
            cll.ElseLevel(),
        ],
    )
    document = cl.CustomComparison(
        output_column_name="document",
        comparison_levels=[cll.NullLevel("document_number"), cll.ExactMatchLevel("document_number"), cll.ElseLevel()],
    )
    return SettingsCreator(
        link_type="link_and_dedupe",
        comparisons=[
            given,
            surnames,
            cl.ExactMatch("sex"),
            age,
            cl.AbsoluteDateDifferenceAtThresholds("event_date", input_is_string=False, metrics=["day", "day", "day"], thresholds=[1, 7, 35]),
            place,
            document,
        ],
        blocking_rules_to_generate_predictions=[block_on(*cols) for cols in PREDICTION_BLOCKS],
        retain_intermediate_calculation_columns=False,
        retain_matching_columns=False,
        additional_columns_to_retain=[],
    )


def train(linker: Any, *, max_pairs: float, seed: int) -> None:
    """Unsupervised: u from random pairs, m by EM on two blocking passes, each capped."""
    linker.training.estimate_probability_two_random_records_match(
        [block_on("surnames_sorted", "given_all", "territory_code"), block_on("document_number")], recall=0.7
    )
    linker.training.estimate_u_using_random_sampling(max_pairs=max_pairs, seed=seed)
    for cols in TRAINING_BLOCKS:
        linker.training.estimate_parameters_using_expectation_maximisation(block_on(*cols), max_pairs=max_pairs)
