"""The digit view's ONNX export, checked outside the browser: onnx.checker accepts it, and ONNX Runtime's
score of 2,000 pictures equals a NumPy reference computed here from the session file's own weights (the
binary cross-entropy of the redrawn picture summed over its pixels, plus the KL term when the session's
settings add it), to a relative 1e-4.

    python check_digits_onnx.py MODEL.onnx SESSION.safetensors stage1|aware|control
"""
import json
import struct
import sys

import numpy as np
import onnx
import onnxruntime as ort


def read_safetensors(path):
    """The tensors and metadata of a safetensors file (8-byte header length, JSON header, raw data)."""
    with open(path, "rb") as f:
        data = f.read()
    (length,) = struct.unpack("<Q", data[:8])
    header = json.loads(data[8:8 + length])
    body = data[8 + length:]
    metadata = header.pop("__metadata__", {})
    tensors = {}
    for name, info in header.items():
        assert info["dtype"] == "F32", name
        start, end = info["data_offsets"]
        tensors[name] = np.frombuffer(body[start:end], dtype="<f4").reshape(info["shape"]).astype(np.float64)
    return tensors, metadata


def reference_scores(w, x, with_kl):
    dense = lambda name, v: v @ w[name + ".weight"].T + w[name + ".bias"]
    h = np.maximum(dense("encoder_hidden", x), 0)
    mu = dense("encoder_mean", h)
    logits = dense("decoder_output", np.maximum(dense("decoder_hidden", mu), 0))
    score = (np.maximum(logits, 0) - x * logits + np.log1p(np.exp(-np.abs(logits)))).sum(axis=1)
    if with_kl:
        log_var = dense("encoder_log_variance", h)
        score += -0.5 * (1 + log_var - mu ** 2 - np.exp(log_var)).sum(axis=1)
    return score


def main(model_path, session_path, network):
    model = onnx.load(model_path)
    onnx.checker.check_model(model, full_check=True)
    tensors, metadata = read_safetensors(session_path)
    assert metadata["content"] == "digits-session", "not a digits session"
    with_kl = json.loads(metadata["training"])["score_with_kl"]
    weights = {name[len(network) + 1:]: t for name, t in tensors.items() if name.startswith(network + ".")}
    rng = np.random.default_rng(1)
    # Pictures like digits: mostly dark, some bright strokes, exact 0 and 1 among them.
    pictures = np.where(rng.random((2000, 784)) < 0.8, 0.0, rng.random((2000, 784)))
    pictures[:, :40] = 1.0
    pictures = pictures.astype(np.float32)
    session = ort.InferenceSession(model_path, providers=["CPUExecutionProvider"])
    got = session.run(["anomaly_score"], {"pixels": pictures})[0].astype(np.float64)
    want = reference_scores(weights, pictures.astype(np.float64), with_kl)
    relative = np.abs(got - want) / np.abs(want)
    if relative.max() > 1e-4:
        first = int(np.argmax(relative > 1e-4))
        sys.exit(f"{int((relative > 1e-4).sum())} of {len(got)} pictures differ; the first is {first}: ONNX Runtime {got[first]}, NumPy {want[first]}")
    print(f"onnx {onnx.__version__}, ONNX Runtime {ort.__version__}: the {network} network scores {len(got)} pictures as NumPy does "
          f"from the session's weights (KL term {'added' if with_kl else 'not added'}); largest relative difference {relative.max():.1e}")


if __name__ == "__main__":
    main(*sys.argv[1:4])
