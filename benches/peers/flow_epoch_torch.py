"""One training epoch of the resonance hunt's background flow in PyTorch on one CPU thread: the peer of
`cargo run --release -p anomaly-engine --example flow_epoch_speed`, which writes the same training rows
(`rows.f32`, row-major: 4 scaled features then the scaled ln m_jj) and reads back what this prints.

The architecture is the engine's (`crates/engine/src/flows/`), written here independently: 4 affine MADE
blocks (2 hidden layers of 64 ReLU units, the context added unmasked to the first hidden layer, orders
alternating natural and reversed, log-scales bounded as 3·tanh(a/3)), AdamW (lr 1e-3, weight decay 1e-5),
the gradient norm clipped at 5, batches of 256 in a shuffled order.

Usage: python flow_epoch_torch.py ROWS_FILE EPOCHS   (prints one JSON line: seconds per epoch)
"""
import json
import math
import sys
import time

import numpy as np
import torch

FEATURES, CONTEXT, BLOCKS, HIDDEN, LAYERS, BOUND, BATCH = 4, 1, 4, 64, 2, 3.0, 256


class MaskedLinear(torch.nn.Linear):
    def __init__(self, inputs, outputs, mask):
        super().__init__(inputs, outputs)
        self.register_buffer("mask", torch.tensor(mask, dtype=torch.float32))

    def forward(self, x):
        return torch.nn.functional.linear(x, self.weight * self.mask, self.bias)


class Made(torch.nn.Module):
    def __init__(self, degrees):
        super().__init__()
        hidden_degrees = [k % (FEATURES - 1) + 1 for k in range(HIDDEN)]
        layers, previous = [], list(degrees)
        for _ in range(LAYERS):
            mask = [[1.0 if h >= p else 0.0 for p in previous] for h in hidden_degrees]
            layers.append(MaskedLinear(len(previous), HIDDEN, mask))
            previous = hidden_degrees
        self.hidden = torch.nn.ModuleList(layers)
        self.context = torch.nn.Linear(CONTEXT, HIDDEN, bias=False)
        outputs = list(degrees) * 2  # all shifts, then all log-scales
        self.output = MaskedLinear(HIDDEN, len(outputs), [[1.0 if o > p else 0.0 for p in previous] for o in outputs])

    def forward(self, x, c):
        h = x
        for k, layer in enumerate(self.hidden):
            h = layer(h)
            if k == 0:
                h = h + self.context(c)
            h = torch.relu(h)
        return self.output(h)


class Maf(torch.nn.Module):
    def __init__(self):
        super().__init__()
        natural = list(range(1, FEATURES + 1))
        self.blocks = torch.nn.ModuleList(Made(natural if b % 2 == 0 else natural[::-1]) for b in range(BLOCKS))

    def log_density(self, x, c):
        u, log_det = x, torch.zeros(x.shape[0])
        for made in self.blocks:
            out = made(u, c)
            shift, log_scale = out[:, :FEATURES], BOUND * torch.tanh(out[:, FEATURES:] / BOUND)
            u = (u - shift) * torch.exp(-log_scale)
            log_det = log_det - log_scale.sum(-1)
        return -0.5 * (u * u).sum(-1) - 0.5 * FEATURES * math.log(2 * math.pi) + log_det


def main():
    torch.set_num_threads(1)
    torch.manual_seed(1)
    rows = torch.from_numpy(np.fromfile(sys.argv[1], dtype=np.float32).reshape(-1, FEATURES + CONTEXT))
    epochs = int(sys.argv[2])
    flow = Maf()
    optimiser = torch.optim.AdamW(flow.parameters(), lr=1e-3, weight_decay=1e-5)
    seconds = []
    for _ in range(epochs):
        start = time.perf_counter()
        order = torch.randperm(rows.shape[0])
        for first in range(0, rows.shape[0], BATCH):
            batch = rows[order[first:first + BATCH]]
            loss = -flow.log_density(batch[:, :FEATURES], batch[:, FEATURES:]).mean()
            optimiser.zero_grad()
            loss.backward()
            torch.nn.utils.clip_grad_norm_(flow.parameters(), 5.0)
            optimiser.step()
        seconds.append(time.perf_counter() - start)
    print(json.dumps({"seconds_per_epoch": min(seconds), "epochs": epochs, "rows": rows.shape[0], "torch": torch.__version__, "final_loss": float(loss)}))


if __name__ == "__main__":
    main()
