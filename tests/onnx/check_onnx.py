"""The page's ONNX export, checked outside the browser: onnx.checker accepts the file, and ONNX Runtime's
score of every row of the events equals the page's download (which the native scorer writes byte for
byte), a missing score where the page left the row unscored.

    python check_onnx.py MODEL.onnx EVENTS.csv SCORED.csv
"""
import csv
import json
import sys

import numpy as np
import onnx
import onnxruntime as ort


def number(cell):
    try:
        return float(cell)
    except ValueError:
        return float("nan")


def read(path):
    with open(path, newline="", encoding="utf-8-sig") as f:
        sample = f.read(4096)
        f.seek(0)
        dialect = csv.Sniffer().sniff(sample, delimiters=",;\t")
        rows = [row for row in csv.reader(f, dialect) if row]
    return rows[0], rows[1:]


def main(model_path, events_path, scored_path):
    model = onnx.load(model_path)
    onnx.checker.check_model(model, full_check=True)
    names = json.loads({p.key: p.value for p in model.metadata_props}["feature_names"])
    header, rows = read(events_path)
    columns = [header.index(name) for name in names]
    features = np.array([[number(row[k]) for k in columns] for row in rows], dtype=np.float32)
    session = ort.InferenceSession(model_path, providers=["CPUExecutionProvider"])
    got = session.run(["anomaly_score"], {"features": features})[0].astype(np.float64)

    scored_header, scored_rows = read(scored_path)
    at = scored_header.index("anomaly_score")
    want = np.array([number(row[at]) for row in scored_rows], dtype=np.float64)
    assert got.shape == want.shape, f"{got.shape} scores for {want.shape} rows"
    same = (np.isnan(got) & np.isnan(want)) | np.isclose(got, want, rtol=1e-4, atol=1e-5)
    if not same.all():
        first = int(np.argmax(~same))
        sys.exit(f"{int((~same).sum())} of {len(got)} rows differ; the first is row {first + 1}: ONNX Runtime {got[first]}, the page {want[first]}")
    finite = ~np.isnan(want)
    relative = np.abs(got[finite] - want[finite]) / np.maximum(np.abs(want[finite]), 1e-6)
    print(f"onnx {onnx.__version__}, ONNX Runtime {ort.__version__}: {len(got)} rows ({int((~finite).sum())} unscored) as the page scores them; largest relative difference {relative.max():.1e}")


if __name__ == "__main__":
    main(*sys.argv[1:4])
