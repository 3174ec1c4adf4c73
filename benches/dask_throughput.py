"""Scoring at scale, measured: the native scorer (`anomaly-score`, one core) against the Dask example
(examples/dask/score_partitions.py: ONNX Runtime on a local cluster, one worker process per core) on the
same events and the same model, written to benches/artifacts/dask.json. Both outputs are compared too.

    python dask_throughput.py EVENTS.csv MODEL.safetensors MODEL.onnx ANOMALY_SCORE_PROGRAM OUT.json [PARTITIONS]
"""
import csv
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
from dask.distributed import Client, LocalCluster

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "examples" / "dask"))
import score_partitions  # noqa: E402


def main(events, model, onnx_model, program, out_json, partitions="16"):
    partitions = int(partitions)
    header, rows = score_partitions.read_rows(events)
    work = Path(tempfile.mkdtemp(prefix="dask-bench-"))
    inputs, outputs = work / "in", work / "out"
    inputs.mkdir()
    bounds = np.linspace(0, len(rows), partitions + 1).astype(int)
    for k in range(partitions):
        with open(inputs / f"part-{k:03}.csv", "w", newline="", encoding="utf-8") as f:
            csv.writer(f, lineterminator="\n").writerows([header] + rows[bounds[k]:bounds[k + 1]])

    start = time.perf_counter()
    native = subprocess.run([program, model, events], capture_output=True, text=True, check=True).stdout
    native_seconds = time.perf_counter() - start
    at = native.split("\n", 1)[0].split(",").index("anomaly_score")
    want = np.array([score_partitions.number(line.split(",")[at]) for line in native.splitlines()[1:] if line])

    workers = os.cpu_count()
    start = time.perf_counter()
    cluster = LocalCluster(n_workers=workers, threads_per_worker=1, processes=True, dashboard_address=None)
    client = Client(cluster)
    startup = time.perf_counter() - start
    start = time.perf_counter()
    _, scored, task_seconds = score_partitions.score_folder(client, onnx_model, inputs, outputs)
    dask_seconds = time.perf_counter() - start
    client.close()
    cluster.close()

    got = np.concatenate([
        np.array([score_partitions.number(r[-1]) for r in score_partitions.read_rows(outputs / f"part-{k:03}.scored.csv")[1]])
        for k in range(partitions)])
    finite = ~np.isnan(want)
    assert scored == len(rows) and np.array_equal(np.isnan(got), np.isnan(want))
    absolute = np.abs(got[finite] - want[finite])
    relatives = absolute / np.maximum(np.abs(want[finite]), 1e-6)
    relative = float(relatives.max())
    beyond = relatives > 1e-5

    result = {
        "rows": len(rows), "partitions": partitions, "workers": workers,
        "native_rows_per_s_per_core": len(rows) / native_seconds,
        "dask_rows_per_s": len(rows) / dask_seconds,
        "dask_rows_per_s_per_core": len(rows) / dask_seconds / workers,
        "dask_rows_per_s_per_core_inside_tasks": len(rows) / task_seconds,
        "dask_over_native_per_core": len(rows) / dask_seconds / workers / (len(rows) / native_seconds),
        "dask_cluster_start_s": startup,
        "largest_relative_difference": relative,
        # Two float32 programs summing in different orders: where a score is tiny, its last bits differ.
        "rows_beyond_1e-5_relative": int(beyond.sum()),
        "largest_score_beyond_1e-5_relative": float(want[finite][beyond].max()) if beyond.any() else None,
        "largest_absolute_difference": float(absolute.max()),
    }
    Path(out_json).parent.mkdir(parents=True, exist_ok=True)
    Path(out_json).write_text(json.dumps(result, indent=2) + "\n")
    print(f"scoring {len(rows):,} rows: anomaly-score {result['native_rows_per_s_per_core']:,.0f} rows/s on one core; "
          f"Dask + ONNX Runtime {result['dask_rows_per_s']:,.0f} rows/s on {workers} worker processes "
          f"({result['dask_rows_per_s_per_core']:,.0f} per core, {result['dask_over_native_per_core']:.2f}× the native scorer per core; "
          f"cluster start {startup:.1f} s not counted); largest relative difference {relative:.1e} "
          f"({int(beyond.sum())} rows beyond 1e-5, all with scores up to {result['largest_score_beyond_1e-5_relative']}), largest absolute {absolute.max():.1e}")
    subprocess.run(["rm", "-rf", str(work)], check=True)


if __name__ == "__main__":
    main(*sys.argv[1:7])
