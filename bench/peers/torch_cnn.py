#!/usr/bin/python3
"""Peer: the benchmarked CNN's training step (bench/cnn-spec.ts: the CIFAR-10 paper network, or
cifar10-small's) in PyTorch on the CPU.

Run by bench/peers/torch-cnn.ts as a child process in the same benchmark run:
    /usr/bin/python3 torch_cnn.py CONFIG_JSON
CONFIG_JSON: {"spec": CnnSpec, "layers": [LayerSpec] (src/nn/architecture.ts's parse of the
architecture), "init": path of the shared start (float32 little-endian: the weights of each
layer, [kh, kw, Cin, Cout] or [in, out] row-major, then x [batch, 32, 32, 3] NHWC, then targets
[batch, classes]), "batch": n, "threads": n, "lossSteps": k, "warmup": w, "runs": r, "minRunMs": ms}.
Prints one JSON object: {"torch": version, "threads": n, "losses": [k floats],
"seconds": [r seconds per step], "repsPerRun": n} - or {"unavailable": reason}.

The network is what a PyTorch user would write (bc_torch.py cnn_network): F.conv2d (oneDNN on
the CPU) and torch.mm on the straight-through sign of W, F.max_pool2d, F.batch_norm (standard
variant), ReLU, square hinge loss, torch.optim.Adam with Lasagne's eps placement, the clip of W.
The timed steps train on the shared start's batch, after the loss steps and the warm-up.
"""
import json
import statistics
import sys
import time

try:
    import torch
    from bc_torch import cnn_network, shared_start_reader
    from torch_mlp import blas_library
except ImportError as e:  # reported as "not available" by the caller, not a failure
    print(json.dumps({"unavailable": f"cannot import torch: {e}"}))
    sys.exit(0)


def main():
    cfg = json.loads(sys.argv[1])
    torch.set_num_threads(cfg["threads"])
    step, x, targets = cnn_network(cfg["spec"], cfg["layers"], shared_start_reader(cfg["init"]), cfg["batch"], "cpu")

    def one():
        return step(x, targets).item()

    losses = [one() for _ in range(cfg["lossSteps"])]  # these steps also warm up
    for _ in range(cfg["warmup"]):
        one()
    t0 = time.perf_counter()
    one()
    one_ms = max((time.perf_counter() - t0) * 1000, 1e-3)
    reps = max(1, int(-(-cfg["minRunMs"] // one_ms)))  # ceil(minRunMs / one_ms), as bench/stats.ts
    seconds = []
    for _ in range(cfg["runs"]):
        t0 = time.perf_counter()
        for _ in range(reps):
            one()
        seconds.append((time.perf_counter() - t0) / reps)
    print(json.dumps({
        "torch": torch.__version__, "threads": torch.get_num_threads(), "blas": blas_library(), "losses": losses,
        "seconds": seconds, "repsPerRun": reps, "median": statistics.median(seconds),
    }))


if __name__ == "__main__":
    main()
