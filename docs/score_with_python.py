"""Scores a CSV with a model saved from Anomaly Playground, in Python with numpy and safetensors.

    pip install numpy safetensors
    python docs/score_with_python.py model.safetensors events.csv

Prints the first scores; they equal the `anomaly_score` column of the page's download (and of
`anomaly-score`) to float rounding. Everything needed is in the file: the weights as tensors, and in the
metadata the features, how each is transformed, and the score's definition (metadata["score"]).
"""
import csv
import json
import sys

import numpy as np
from safetensors import safe_open


def load(path):
    with safe_open(path, framework="np") as f:
        meta = f.metadata()
        weights = {name: f.get_tensor(name) for name in f.keys()}
    return weights, json.loads(meta["preprocessing"]), meta["score_with_kl"] == "true"


def score(weights, preprocessing, with_kl, columns):
    """columns: a dict from column name to a float32 array of that column's values."""
    features = preprocessing["features"]
    x = np.stack([np.log(columns[f["name"]]) if f["log"] else columns[f["name"]] for f in features], axis=1)
    x = (x - np.array([f["mean"] for f in features])) / np.array([f["std"] for f in features])
    dense = lambda name, v: v @ weights[name + ".weight"].T + weights[name + ".bias"]
    h = np.maximum(dense("encoder_hidden", x), 0)
    mu = dense("encoder_mean", h)
    x_hat = dense("decoder_output", np.maximum(dense("decoder_hidden", mu), 0))
    s = 0.5 * ((x - x_hat) ** 2).sum(axis=1)
    if with_kl:
        log_var = dense("encoder_log_variance", h)
        s += -0.5 * (1 + log_var - mu**2 - np.exp(log_var)).sum(axis=1)
    return s  # NaN where a feature is missing (the page leaves such rows unscored or imputes them)


if __name__ == "__main__":
    weights, preprocessing, with_kl = load(sys.argv[1])
    with open(sys.argv[2], newline="", encoding="utf-8-sig") as f:
        rows = list(csv.DictReader(f))
    number = lambda v: float(v) if v.strip() else np.nan
    columns = {f["name"]: np.array([number(r[f["name"]]) for r in rows], dtype=np.float32) for f in preprocessing["features"]}
    print(score(weights, preprocessing, with_kl, columns)[:5])
