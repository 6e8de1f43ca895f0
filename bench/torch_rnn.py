"""PyTorch's CPU recurrent modules on the cases of `cargo xtask bench-backends`.

Float32, batch_first, 2 threads by default, median of --runs timed runs after 3 warm-ups.
`cargo xtask bench-backends --torch PYTHON` runs this right before its own cases, so that both
see the machine in the same state. Needs torch (keep its ~5 GB venv outside the repository):

    python3 -m venv ~/.venvs/torch && ~/.venvs/torch/bin/pip install torch numpy
    ~/.venvs/torch/bin/python bench/torch_rnn.py --json torch.json

Rows: case id, layer (lstm, gru, rnn-tanh, bilstm-2layer), mode (forward = inference under
no_grad; train = forward + backward of sum(output)), median milliseconds.

`--serve` answers timing requests on stdin instead, one per line, `CASE LAYER MODE RUNS`, with
one line of JSON (the RUNS wall times in ms; the first request for a case also warms it up):
`cargo xtask bench-backends` uses it to interleave PyTorch's runs with its own, so that both
see the same machine state even when other processes come and go.
"""
import argparse
import json
import statistics
import sys
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


def make_step(case, layer, mode):
    for c, l, m, batch, steps, inp, hidden in CASES:
        if (c, l, m) != (case, layer, mode):
            continue
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

        return step
    raise ValueError(f"unknown case {case} {layer} {mode}")


def serve():
    steps = {}
    for line in sys.stdin:
        parts = line.split()
        if len(parts) != 4:
            continue
        case, layer, mode, runs = parts[0], parts[1], parts[2], int(parts[3])
        key = (case, layer, mode)
        if key not in steps:
            steps[key] = make_step(*key)
            for _ in range(3):
                steps[key]()
        times = []
        for _ in range(runs):
            start = time.perf_counter()
            steps[key]()
            times.append((time.perf_counter() - start) * 1e3)
        print(json.dumps(times), flush=True)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=15)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--json", help="write the rows to this file")
    parser.add_argument("--serve", action="store_true", help="answer timing requests on stdin")
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    torch.manual_seed(0)
    if args.serve:
        serve()
        return
    rows = []
    for case, layer, mode, *_ in CASES:
        ms = median_ms(make_step(case, layer, mode), args.runs)
        rows.append({"case": case, "layer": layer, "mode": mode, "median_ms": ms})
        print(f"{case}  {layer:<14} {mode:<8} {ms:10.3f} ms")
    print(f"torch {torch.__version__}, {torch.get_num_threads()} threads, median of {args.runs}")
    if args.json:
        with open(args.json, "w") as f:
            json.dump(rows, f, indent=1)


if __name__ == "__main__":
    main()
