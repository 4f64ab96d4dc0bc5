"""Benchmark: aberration detection on 2,457 municipalities x 300 months (issue 7).

Counts: ``segura.warning.aberration.simulate`` (seed 7; mean 10 a month, seasonal harmonic 0.3,
NB dispersion 1.5, two 3-month outbreaks of 4 sd a period per series). Timed, median of
``--repeat`` runs: one ``detect`` call per method group (EARS C1+C2+C3, Farrington, NB GLM).
Printed: the timings and the evaluation table (sensitivity, false alarm rate, median delay) on
the same monthly series and on 500 weekly series x 10 years.

    .venv/bin/python bench/warning.py --repeat 3
    .venv/bin/python bench/warning.py --repeat 3 --against 54ce1ba   # side by side with an older commit

With ``--against REV`` the detection module as it was at REV (read with ``git show``) runs
interleaved with today's on the same counts; the table gives both medians and their ratio, so a
change is judged on one machine in one run (these machines are shared and their speed varies).
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import time
import types
from pathlib import Path

from segura.warning import aberration
from segura.warning.aberration import detect, evaluate, simulate

GROUPS = {
    "EARS C1+C2+C3": ("ears_c1", "ears_c2", "ears_c3"),
    "Farrington (improved)": ("farrington",),
    "NB GLM": ("negbin",),
}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--series", type=int, default=2457)
    parser.add_argument("--months", type=int, default=300)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--against", help="A git revision whose detection module runs side by side.")
    args = parser.parse_args()
    sim = simulate(args.series, args.months, "month", seed=7)
    if args.against:
        side_by_side(sim.counts, args.against, args.repeat)
        return
    print(f"| methods | runs | median s | {args.series} x {args.months} months |")
    print("|---|---|---|---|")
    total = 0.0
    for name, methods in GROUPS.items():
        times = []
        for _ in range(args.repeat):
            start = time.perf_counter()
            detect(sim.counts, freq="month", methods=methods)
            times.append(time.perf_counter() - start)
        total += statistics.median(times)
        print(f"| {name} | {args.repeat} | {statistics.median(times):.2f} | |")
    print(f"| all three | | {total:.2f} | |\n")
    weekly = simulate(500, 520, "week", seed=7)
    for label, s, freq in (("monthly", sim, "month"), ("weekly", weekly, "week")):
        table = evaluate(detect(s.counts, freq=freq), s)  # type: ignore[arg-type]
        print(f"{label}: {s.counts.shape[0]} series x {s.counts.shape[1]}")
        print("| method | outbreaks | sensitivity | false alarm rate | median delay |")
        print("|---|---|---|---|---|")
        for row in table.itertuples(index=False):
            print(
                f"| {row.method} | {row.outbreaks} | {row.sensitivity:.3f} "
                f"| {row.false_alarm_rate:.4f} | {row.median_delay:.0f} |"
            )
        print()


def older(rev: str) -> types.ModuleType:
    """segura.warning.aberration as it was at `rev`, loaded beside today's."""
    root = Path(__file__).resolve().parents[1]
    text = subprocess.run(["git", "show", f"{rev}:src/segura/warning/aberration.py"], cwd=root,
                          capture_output=True, text=True, check=True).stdout
    module = types.ModuleType(f"aberration_{rev}")
    sys.modules[module.__name__] = module  # dataclasses look their module up there
    exec(compile(text, f"{rev}:aberration.py", "exec"), module.__dict__)  # noqa: S102 (our own file at a commit)
    return module


def side_by_side(counts: object, rev: str, repeat: int) -> None:
    old = older(rev)
    print(f"| methods | {rev} median s | now median s | ratio {rev} / now |")
    print("|---|---|---|---|")
    for name, methods in GROUPS.items():
        times: dict[str, list[float]] = {"old": [], "new": []}
        for _ in range(repeat):  # interleaved: a slow spell of the machine hits both
            for key, module in (("old", old), ("new", aberration)):
                start = time.perf_counter()
                module.detect(counts, freq="month", methods=methods)
                times[key].append(time.perf_counter() - start)
        a, b = statistics.median(times["old"]), statistics.median(times["new"])
        print(f"| {name} | {a:.2f} | {b:.2f} | {a / b:.2f} |")


if __name__ == "__main__":
    main()
