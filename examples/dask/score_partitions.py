"""Scores a folder of CSV partitions with a model exported from Anomaly Playground ("Download as ONNX", or
`anomaly-score --onnx model.safetensors > model.onnx`), on a Dask cluster, with ONNX Runtime.

    python score_partitions.py MODEL.onnx IN_FOLDER OUT_FOLDER                # a local cluster, one process per core
    python score_partitions.py MODEL.onnx IN_FOLDER OUT_FOLDER --scheduler tcp://host:8786

Every `*.csv` in IN_FOLDER is one partition with its own header row; each becomes OUT_FOLDER/<name>.scored.csv:
its rows unchanged, with `anomaly_score` appended (empty where the model leaves a row unscored: a feature is
missing and the model was trained to drop such rows). The model finds its columns by the names in its
`feature_names` metadata, so partitions may hold other columns in any order. The workers read the inputs
and write the outputs themselves, so on a real cluster both folders are on a shared file system (or swap
`read_rows`/`write_rows` for your storage); the model travels to every worker once, from here.
"""
import argparse
import csv
import functools
import json
import os
import sys
import time
from pathlib import Path

import numpy as np
import onnxruntime as ort
from dask.distributed import Client, LocalCluster


@functools.lru_cache(maxsize=4)
def session_for(model_bytes):
    """One ONNX Runtime session per model per worker process, on one thread: Dask gives each task a core."""
    options = ort.SessionOptions()
    options.intra_op_num_threads = 1
    options.inter_op_num_threads = 1
    session = ort.InferenceSession(model_bytes, options, providers=["CPUExecutionProvider"])
    names = json.loads(session.get_modelmeta().custom_metadata_map["feature_names"])
    return session, names


def number(cell):
    """A cell as the playground reads it: a number, or missing (NaN) for anything else."""
    try:
        return float(cell)
    except ValueError:
        return float("nan")


def read_rows(path):
    with open(path, newline="", encoding="utf-8-sig") as f:
        rows = [row for row in csv.reader(f) if row]
    if not rows:
        raise ValueError(f"{path} is empty")
    return rows[0], rows[1:]


def write_rows(path, header, rows, scores):
    tmp = f"{path}.part"
    with open(tmp, "w", newline="", encoding="utf-8") as f:
        out = csv.writer(f, lineterminator="\n")
        out.writerow(header + ["anomaly_score"])
        for row, score in zip(rows, scores):
            out.writerow(row + ["" if np.isnan(score) else f"{score:.9g}"])
    os.replace(tmp, path)  # a partition's output appears whole or not at all


def score_partition(model_bytes, in_path, out_path):
    """Scores one partition; returns (rows, seconds spent) for the throughput report."""
    start = time.perf_counter()
    session, names = session_for(model_bytes)
    header, rows = read_rows(in_path)
    missing = [name for name in names if name not in header]
    if missing:
        raise ValueError(f"{in_path} has no column {', '.join(missing)} (the model needs {', '.join(names)})")
    columns = [header.index(name) for name in names]
    features = np.array([[number(row[k]) if k < len(row) else np.nan for k in columns] for row in rows], dtype=np.float32)
    features = features.reshape(len(rows), len(names))
    scores = session.run(["anomaly_score"], {"features": features})[0]
    write_rows(out_path, header, rows, scores)
    return len(rows), time.perf_counter() - start


def score_folder(client, model_path, in_folder, out_folder):
    """Scores every partition on the cluster behind `client`; returns (partitions, rows, task seconds)."""
    inputs = sorted(Path(in_folder).glob("*.csv"))
    if not inputs:
        raise ValueError(f"{in_folder} holds no .csv partitions")
    Path(out_folder).mkdir(parents=True, exist_ok=True)
    model = client.scatter(Path(model_path).read_bytes(), broadcast=True)
    outputs = [str(Path(out_folder) / f"{p.stem}.scored.csv") for p in inputs]
    futures = client.map(score_partition, [model] * len(inputs), [str(p) for p in inputs], outputs, pure=False)
    done = client.gather(futures)
    return len(inputs), sum(rows for rows, _ in done), sum(seconds for _, seconds in done)


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("model")
    parser.add_argument("in_folder")
    parser.add_argument("out_folder")
    parser.add_argument("--scheduler", help="address of a running Dask scheduler (default: a local cluster)")
    parser.add_argument("--workers", type=int, default=os.cpu_count(), help="local cluster's worker processes")
    args = parser.parse_args()
    if args.scheduler:
        client = Client(args.scheduler)
    else:
        client = Client(LocalCluster(n_workers=args.workers, threads_per_worker=1, processes=True, dashboard_address=None))
    with client:
        start = time.perf_counter()
        partitions, rows, task_seconds = score_folder(client, args.model, args.in_folder, args.out_folder)
        wall = time.perf_counter() - start
    print(f"scored {rows} rows in {partitions} partitions in {wall:.2f} s ({rows / wall:,.0f} rows/s; "
          f"{rows / task_seconds:,.0f} rows/s per core inside the tasks)", file=sys.stderr)


if __name__ == "__main__":
    main()
