"""The reference implementations of the classical baselines, on the rows `baselines_bench` prepared: the
peer of `cargo run --release -p anomaly-engine --example baselines_bench`. scikit-learn's IsolationForest,
PCA, NearestNeighbors and LocalOutlierFactor and PyOD's ECOD, with the settings the engine uses, on one
thread (the bench sets OMP/OpenBLAS to one thread before starting this).

For every case folder under ROOT (`train.f32`, `test.f32`: row-major float32; `case.json`: rows, width,
protocol, seeds), writes `reference.json`: per method its scores on the test rows (one list per seed for
the forest) and its fit and score seconds.

Usage: python baselines_reference.py ROOT
"""
import json
import os
import sys
import time
import warnings

import numpy as np
from sklearn.decomposition import PCA
from sklearn.ensemble import IsolationForest
from sklearn.neighbors import LocalOutlierFactor, NearestNeighbors
from pyod.models.ecod import ECOD

warnings.filterwarnings("ignore")


def timed(fit, score):
    start = time.perf_counter()
    model = fit()
    fitted = time.perf_counter()
    scores = score(model)
    done = time.perf_counter()
    return np.asarray(scores, dtype=np.float64), fitted - start, done - fitted


def run_case(folder):
    case = json.load(open(os.path.join(folder, "case.json")))
    width = case["width"]
    train = np.fromfile(os.path.join(folder, "train.f32"), dtype=np.float32).reshape(-1, width).astype(np.float64)
    test = np.fromfile(os.path.join(folder, "test.f32"), dtype=np.float32).reshape(-1, width).astype(np.float64)
    same = case["protocol"] == "unsupervised"  # the test rows are the training rows
    out = {}

    def record(name, result):
        scores, fit_s, score_s = result
        if not np.all(np.isfinite(scores)):
            out[name] = {"error": "non-finite scores"}
            return
        out.setdefault(name, {"scores": [], "fit_seconds": [], "score_seconds": []})
        out[name]["scores"].append(scores.tolist())
        out[name]["fit_seconds"].append(fit_s)
        out[name]["score_seconds"].append(score_s)

    for seed in range(case["seeds"]):
        record("iforest", timed(
            lambda: IsolationForest(n_estimators=100, max_samples=min(256, len(train)), random_state=seed).fit(train),
            lambda m: -m.score_samples(test)))

    def fit_pca():
        # The fewest components over the variance share, but never all of them (as the engine).
        pca = PCA(n_components=case["pca_variance"], svd_solver="full").fit(train)
        if pca.n_components_ >= width:
            pca = PCA(n_components=width - 1, svd_solver="full").fit(train)
        return pca
    record("pca", timed(fit_pca, lambda m: ((test - m.inverse_transform(m.transform(test))) ** 2).sum(axis=1)))

    k = case["knn_k"]
    record("knn", timed(
        lambda: NearestNeighbors(n_neighbors=k).fit(train),
        lambda m: (m.kneighbors()[0] if same else m.kneighbors(test)[0])[:, -1]))

    lof_k = case["lof_k"]
    if same:
        record("lof", timed(lambda: LocalOutlierFactor(n_neighbors=lof_k).fit(train),
                            lambda m: -m.negative_outlier_factor_))
    else:
        record("lof", timed(lambda: LocalOutlierFactor(n_neighbors=lof_k, novelty=True).fit(train),
                            lambda m: -m.score_samples(test)))

    if same:
        record("ecod", timed(lambda: ECOD().fit(train), lambda m: m.decision_scores_))
    else:
        record("ecod", timed(lambda: ECOD().fit(train), lambda m: m.decision_function(test)))

    json.dump(out, open(os.path.join(folder, "reference.json"), "w"))


def main():
    root = sys.argv[1]
    cases = sorted(d for d in os.listdir(root) if os.path.isdir(os.path.join(root, d)))
    for i, name in enumerate(cases):
        print(f"reference {i + 1}/{len(cases)}: {name}", file=sys.stderr, flush=True)
        run_case(os.path.join(root, name))


if __name__ == "__main__":
    main()
