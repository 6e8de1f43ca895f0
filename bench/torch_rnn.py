"""PyTorch's CPU recurrent modules on the cases of `cargo xtask bench-backends`.

Float32, batch_first, 2 threads by default, median of --runs timed runs after 3 warm-ups.
`cargo xtask bench-backends --torch PYTHON` runs this right before its own cases, so that both
see the machine in the same state. Needs torch (keep its ~5 GB venv outside the repository):

    python3 -m venv ~/.venvs/torch && ~/.venvs/torch/bin/pip install torch numpy
    ~/.venvs/torch/bin/python bench/torch_rnn.py --json torch.json

Rows: case id, layer (lstm, gru, rnn-tanh, bilstm-2layer), mode (forward = inference under
no_grad; train = forward + backward of sum(output)), median milliseconds.
"""
import argparse
import json
import statistics
import time

import torch
from torch import nn

# id, layer, mode, batch, time, input, hidden: the cases of xtask/src/bench_backends.rs.
CASES = [
    ("a", "lstm", "forward", 32, 64, 128, 256),
    ("b", "lstm", "train", 32, 64, 128, 256),
    ("c", "gru", "forward", 32, 64, 128, 256),
    ("c", "rnn-tanh", "forward", 32, 64, 128, 256),
    ("d", "bilstm-2layer", "forward", 32, 64, 128, 256),
    ("e", "lstm", "forward", 1, 32, 64, 128),
    ("f", "lstm", "forward", 8, 512, 64, 128),
]


def module(layer, inp, hidden):
    if layer == "lstm":
        return nn.LSTM(inp, hidden, batch_first=True)
    if layer == "gru":
        return nn.GRU(inp, hidden, batch_first=True)
    if layer == "rnn-tanh":
        return nn.RNN(inp, hidden, nonlinearity="tanh", batch_first=True)
    if layer == "bilstm-2layer":
        return nn.LSTM(inp, hidden, num_layers=2, bidirectional=True, batch_first=True)
    raise ValueError(layer)


def median_ms(step, runs, warmup=3):
    for _ in range(warmup):
        step()
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        step()
        times.append((time.perf_counter() - start) * 1e3)
    return statistics.median(times)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=15)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--json", help="write the rows to this file")
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    torch.manual_seed(0)
    rows = []
    for case, layer, mode, batch, steps, inp, hidden in CASES:
        net = module(layer, inp, hidden).float()
        x = torch.randn(batch, steps, inp)
        if mode == "train":
            net.train()

            def step():
                net.zero_grad(set_to_none=True)
                out, _ = net(x)
                out.sum().backward()

        else:
            net.eval()

            def step():
                with torch.no_grad():
                    net(x)

        ms = median_ms(step, args.runs)
        rows.append({"case": case, "layer": layer, "mode": mode, "median_ms": ms})
        print(f"{case}  {layer:<14} {mode:<8} {ms:10.3f} ms")
    print(f"torch {torch.__version__}, {torch.get_num_threads()} threads, median of {args.runs}")
    if args.json:
        with open(args.json, "w") as f:
            json.dump(rows, f, indent=1)


if __name__ == "__main__":
    main()
