"""The Dask example (examples/dask/score_partitions.py), checked: the events split into 8 partitions, scored on
a local Dask cluster of 2 worker processes with ONNX Runtime and the page's ONNX export, give every row the
score the native scorer gives it (relative 1e-5), and leave unscored exactly the rows it leaves unscored.

    python check_dask.py MODEL.onnx MODEL.safetensors EVENTS.csv WORK_FOLDER ANOMALY_SCORE_PROGRAM
"""
import csv
import subprocess
import sys
from pathlib import Path

import numpy as np
from dask.distributed import Client, LocalCluster

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "examples" / "dask"))
import score_partitions  # noqa: E402  (the example itself, as a user runs it)

PARTITIONS = 8


def scores_of(header, rows):
    at = header.index("anomaly_score")
    return np.array([score_partitions.number(row[at]) for row in rows], dtype=np.float64)


def main(onnx_path, model_path, events_path, work, program):
    work = Path(work)
    inputs, outputs = work / "partitions", work / "scored"
    for folder in (inputs, outputs):
        folder.mkdir(parents=True, exist_ok=True)
        for old in folder.glob("*.csv"):
            old.unlink()
    header, rows = score_partitions.read_rows(events_path)
    bounds = np.linspace(0, len(rows), PARTITIONS + 1).astype(int)
    for k in range(PARTITIONS):
        with open(inputs / f"part-{k:02}.csv", "w", newline="", encoding="utf-8") as f:
            csv.writer(f, lineterminator="\n").writerows([header] + rows[bounds[k]:bounds[k + 1]])
    cluster = LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None)
    with Client(cluster) as client:
        partitions, scored_rows, _ = score_partitions.score_folder(client, onnx_path, inputs, outputs)
    cluster.close()
    assert (partitions, scored_rows) == (PARTITIONS, len(rows)), (partitions, scored_rows)
    got = np.concatenate([scores_of(*score_partitions.read_rows(outputs / f"part-{k:02}.scored.csv")) for k in range(PARTITIONS)])

    native = subprocess.run([program, model_path, events_path], capture_output=True, text=True, check=True).stdout
    lines = [line.split(",") for line in native.splitlines() if line]
    want = scores_of(lines[0], lines[1:])
    assert got.shape == want.shape, f"{got.shape} scores for {want.shape} rows"
    assert np.array_equal(np.isnan(got), np.isnan(want)), "the unscored rows differ"
    finite = ~np.isnan(want)
    relative = np.abs(got[finite] - want[finite]) / np.maximum(np.abs(want[finite]), 1e-6)
    if relative.max() > 1e-5:
        first = int(np.argmax(relative > 1e-5))
        sys.exit(f"{int((relative > 1e-5).sum())} rows differ by more than 1e-5; the first scored row {first + 1}: Dask {got[finite][first]}, anomaly-score {want[finite][first]}")
    print(f"Dask: {len(got)} rows in {PARTITIONS} partitions on 2 worker processes as anomaly-score scores them "
          f"({int((~finite).sum())} unscored); largest relative difference {relative.max():.1e}")


if __name__ == "__main__":
    main(*sys.argv[1:6])
