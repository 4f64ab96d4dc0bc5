"""A load killed at any moment (SIGKILL: no cleanup, no finally) leaves the warehouse exactly as it
was; the next run completes it. The load's duration is measured first on a copy of the workspace,
then the real load is killed at random moments spread across that duration."""

from __future__ import annotations

import os
import random
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

from tests.conftest import MUNICIPALITIES, Inbox, rows

N_ROWS = 200_000
KILLS = 10
BAD_EVERY = 97  # every 97th row has an impossible age: the load quarantines as it goes


def write_extract(path: Path, n: int = N_ROWS, seed: int = 1) -> None:
    rng = np.random.default_rng(seed)
    days, months, ages = rng.integers(1, 29, n), rng.integers(1, 13, n), rng.integers(0, 100, n)
    ages[::BAD_EVERY] = 200
    place = rng.integers(0, len(MUNICIPALITIES), n)
    departments = {"01": "San José", "02": "Alajuela"}
    names = [(departments[parent], name) for _, name, parent, _ in MUNICIPALITIES]
    sexes = np.array(["F", "M"])[rng.integers(0, 2, n)]
    lines = ["folio,fecha,depto,municipio,sexo,edad,nombre,delito,observaciones"]
    lines += [
        f"{i},{d:02d}/{m:02d}/2021,{names[k][0]},{names[k][1]},{s},{a},Nombre {i},HOM,"
        for i, d, m, k, s, a in zip(
            range(1, n + 1),
            days.tolist(),
            months.tolist(),
            place.tolist(),
            sexes.tolist(),
            ages.tolist(),
            strict=True,
        )
    ]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")


def load_code(root: Path, extract: Path, steps: Path) -> str:
    """A load in a fresh process that notes (wall time, step) as it goes: hashing, reading,
    validating, writing (the last three inside the transaction), then done."""
    return (
        "import time; from pathlib import Path; from segura import Workspace\n"
        f"log = open({str(steps)!r}, 'a', buffering=1)\n"
        "note = lambda step: log.write(f'{time.time()} {step}\\n')\n"
        f"Workspace.open(Path({str(root)!r})).ingest('police', Path({str(extract)!r}), on_step=note)\n"
        "note('done')\n"
    )


def read_steps(steps: Path) -> list[tuple[float, str]]:
    if not steps.exists():
        return []
    return [
        (float(t), name)
        for t, name in (line.split() for line in steps.read_text().splitlines() if line.strip())
    ]


def check_consistent(inbox: Inbox) -> None:
    """Every load row is whole: its counts add up and match the rows that carry its id."""
    loads = inbox.query(
        "SELECT load_id, status, rows_read, rows_loaded, rows_quarantined FROM load"
    )
    for load_id, status, read, loaded, quarantined in loads:
        assert status in ("loaded", "rejected")
        assert read == loaded + quarantined, (load_id, read, loaded, quarantined)
        assert inbox.query("SELECT count(*) FROM person WHERE load_id = ?", [load_id]) == [
            (loaded,)
        ]
        assert inbox.query("SELECT count(*) FROM quarantine WHERE load_id = ?", [load_id]) == [
            (quarantined,)
        ]
    ids = {r[0] for r in loads}
    for table in ("event", "person", "person_identity", "quarantine", "load_issue", "load_period"):
        orphans = inbox.query(f"SELECT DISTINCT load_id FROM {table}")  # noqa: S608 (our own table names)
        assert {r[0] for r in orphans} <= ids, f"{table} has rows of a load that is not recorded"


@pytest.mark.slow
def test_a_load_killed_at_any_moment_leaves_the_warehouse_as_before(
    inbox: Inbox, tmp_path: Path
) -> None:
    root = inbox.ws.root
    inbox.mapping()
    earlier = inbox.ingest(
        inbox.csv("enero.csv", rows(5, fecha="10/01/2021"))
    )  # the warehouse is not empty
    assert earlier.status == "loaded"
    extract = root / "inbox" / "grande.csv"
    write_extract(extract)
    snapshot = inbox.counts()
    inbox.release()
    pristine = tmp_path / "pristine"
    shutil.copytree(root, pristine)

    # 1. measure the load on a copy: when its first step starts and when it is done
    probe = tmp_path / "probe"
    shutil.copytree(pristine, probe)
    probe_steps = tmp_path / "probe-steps.txt"
    started = time.time()
    subprocess.run(
        [sys.executable, "-c", load_code(probe, probe / "inbox" / "grande.csv", probe_steps)],
        check=True,
        timeout=120,
        capture_output=True,
    )
    timeline = read_steps(probe_steps)
    assert [name for _, name in timeline] == ["hashing", "reading", "validating", "writing", "done"]
    load_starts, load_ends = timeline[0][0] - started, timeline[-1][0] - started
    completed = Inbox(
        inbox.ws.__class__.open(probe)
    ).counts()  # (a plain Workspace: opens and closes)
    assert completed["person"] > snapshot["person"]

    # 2. kill the real load at random moments spread across the load's duration (counted from
    #    its first step, so that a slow interpreter start does not shift the kills)
    rng = random.Random(20211)
    outcomes: list[tuple[float, str, str]] = []
    for i in range(KILLS):
        delay = (load_ends - load_starts) * (i + rng.random()) / KILLS
        steps = tmp_path / f"steps-{i}.txt"
        proc = subprocess.Popen(
            [sys.executable, "-c", load_code(root, extract, steps)],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        deadline = time.monotonic() + 60
        while not read_steps(steps) and proc.poll() is None and time.monotonic() < deadline:
            time.sleep(0.005)
        assert read_steps(steps), "the load never started"
        time.sleep(delay)
        os.kill(proc.pid, signal.SIGKILL)  # (harmless if it already exited)
        proc.wait(timeout=30)
        last_step = read_steps(steps)[-1][1]
        after = inbox.counts()
        check_consistent(inbox)
        inbox.release()
        if after == snapshot:
            outcomes.append((round(delay, 2), last_step, "as before"))
        else:
            # killed after COMMIT: then the load must be whole
            assert last_step in ("writing", "done"), (delay, last_step, after)
            assert after == completed, (delay, last_step, after)
            outcomes.append((round(delay, 2), last_step, "complete"))
            shutil.rmtree(root)
            shutil.copytree(pristine, root)
    inside = [
        o for o in outcomes if o[1] in ("reading", "validating", "writing") and o[2] == "as before"
    ]
    assert len(inside) >= KILLS // 2, (
        f"too few kills landed inside the load's transaction: {outcomes}"
    )

    # 3. the next run completes it, and it adds up
    report = inbox.ingest(extract)
    assert report.status == "loaded", report.message
    assert report.rows_read == N_ROWS
    assert report.rows_quarantined == len(range(0, N_ROWS, BAD_EVERY))
    assert report.adds_up
    assert inbox.counts() == completed
    check_consistent(inbox)
