#!/usr/bin/env python3
"""Peer of the GPU benchmark (bench/gpu-suite.ts): the same computations in PyTorch on CUDA.

Run by bench/peers/torch-gpu.ts as a child process of the benchmark run:
    python3 torch_gpu.py CONFIG_JSON
CONFIG_JSON has "task" and the timing ("warmup", "runs", "minRunMs"):
  {"task": "matmul", "shapes": [{"form": "A.B" | "A^T.B" | "A.B^T", "M", "K", "N"}, ...]}
      -> {"results": [{"form", "M", "K", "N", "seconds": [per product, one per run], "inner"}]}
  {"task": "epoch", "spec": MlpSpec, "init": path, "lossSteps": k, "examples": n}
      -> {"losses": [k], "seconds": [per epoch, one per run]}
  {"task": "cnn-epoch", "spec": CnnSpec, "layers": [LayerSpec], "init": path, "batch": b, "lossSteps": k, "examples": n}
      -> the same: the CIFAR-10 network of bench/cnn-spec.ts, its layers as src/nn/architecture.ts
         parses them (conv, maxpool, batchnorm, relu, flatten, dense), from the shared start
         (weights [kh, kw, Cin, Cout] / [in, out] row-major, then x NHWC, then targets)
Every output is one JSON line, with "torch", "device" and "cuda"; or {"unavailable": reason}.
"device": "cpu" in CONFIG_JSON (the environment variable BC_TORCH_GPU_DEVICE=cpu of the benchmark)
runs the same code on the CPU: a check of this script on machines without a GPU, not a figure.

Precision: float32 everywhere, TF32 off (torch.backends.cuda.matmul.allow_tf32 = False and
torch.set_float32_matmul_precision("highest")), as our WebGPU kernels compute.

Timing (as bench/stats.ts, with GPU batching): a product is too short to time alone against
the cost of a synchronization, so a run times `inner` products (or one epoch) followed by
torch.cuda.synchronize(); `inner` grows until a run lasts >= minRunMs.

The epoch is the MNIST MLP of bench/spec.ts (784-1024-1024-1024-10, standard batch norm,
ReLU, deterministic binarization with the straight-through gradient, square hinge loss, Adam
with the Glorot scale of W and the clip) at batch 200 over `examples` synthetic images of
MNIST's shape; each batch is copied from host memory to the GPU, as our benchmark uploads it.
The first `lossSteps` steps train on the shared start (the init file, as bench/peers/torch_mlp.py)
so their losses can be compared with ours.
"""
import json
import sys
import time

from bc_torch import Trainer, cnn_network, glorot_lr_scale, mlp_forward, shared_start_reader, timed_runs  # without torch: "unavailable"
import numpy as np
import torch
import torch.nn.functional as F


def sync():
    if torch.cuda.is_available():
        torch.cuda.synchronize()


def bench_matmul(cfg, dev):
    results = []
    for s in cfg["shapes"]:
        M, K, N, form = s["M"], s["K"], s["N"], s["form"]
        g = torch.Generator(device=dev).manual_seed(1)
        a = torch.rand(*((K, M) if form == "A^T.B" else (M, K)), device=dev, generator=g) * 2 - 1
        b = torch.rand(*((N, K) if form == "A.B^T" else (K, N)), device=dev, generator=g) * 2 - 1
        out = torch.empty(M, N, device=dev)
        opA = a.t() if form == "A^T.B" else a
        opB = b.t() if form == "A.B^T" else b
        torch.mm(opA, opB, out=out)
        sync()
        inner = 1
        while True:  # products per synchronization, so that the sync is a small part of a run
            t0 = time.perf_counter()
            for _ in range(inner):
                torch.mm(opA, opB, out=out)
            sync()
            if time.perf_counter() - t0 >= 0.02 or inner >= 4096:
                break
            inner *= 4

        def batch():
            for _ in range(inner):
                torch.mm(opA, opB, out=out)
            sync()

        seconds = [t / inner for t in timed_runs(batch, cfg)[0]]
        results.append({"form": form, "M": M, "K": K, "N": N, "inner": inner, "seconds": seconds})
    return {"results": results}


def timed_epochs(step, xs, labels, classes, B, cfg, dev):
    """Seconds per epoch of cfg["examples"] images: batches of B cycled from the host-memory pool xs
    (labels as +-1 targets), each copied to the device, as our benchmark uploads them."""
    pool = xs.shape[0]
    ts = torch.full((pool, classes), -1.0)
    ts[torch.arange(pool), torch.from_numpy(labels)] = 1.0
    batches = cfg["examples"] // B

    def epoch():
        total = torch.zeros((), device=dev)
        for k in range(batches):
            lo = (k * B) % (pool - B + 1)
            total += step(xs[lo:lo + B].to(dev), ts[lo:lo + B].to(dev)).detach()
        total.item()  # the epoch's loss reaches the host: the end of its work
        sync()

    return {"seconds": timed_runs(epoch, {**cfg, "minRunMs": 0})[0], "batches": batches}


def bench_epoch(cfg, dev):
    spec = cfg["spec"]
    sizes = [spec["inputs"], *spec["hidden"], spec["classes"]]
    shapes = list(zip(sizes[:-1], sizes[1:]))
    B, classes = spec["batch"], spec["classes"]
    take = shared_start_reader(cfg["init"])
    weights = [take(k, n).to(dev).requires_grad_() for k, n in shapes]
    x0 = take(B, spec["inputs"]).to(dev)
    t0 = take(B, classes).to(dev)
    gammas = [torch.ones(n, device=dev, requires_grad=True) for _, n in shapes]
    betas = [torch.zeros(n, device=dev, requires_grad=True) for _, n in shapes]
    running = [(torch.zeros(n, device=dev), torch.ones(n, device=dev)) for _, n in shapes]
    trainer = Trainer(weights, [glorot_lr_scale(k, n) for k, n in shapes], gammas, betas, spec)

    def step(x, targets):
        return trainer.step(mlp_forward(x, weights, gammas, betas, running, spec), targets)

    losses = [step(x0, t0).item() for _ in range(cfg["lossSteps"])]

    # synthetic images of MNIST's shape in host memory, cycled; labels as +-1 targets
    rng = np.random.default_rng(1)
    pool = 10_000
    xs = torch.from_numpy(rng.random((pool, spec["inputs"]), dtype=np.float32))
    labels = rng.integers(0, classes, pool)
    return {"losses": losses, **timed_epochs(step, xs, labels, classes, B, cfg, dev)}


def bench_cnn_epoch(cfg, dev):
    spec, B = cfg["spec"], cfg["batch"]
    classes = spec["classes"]
    h0, w0, c0 = spec["input"]
    step, x0, t0 = cnn_network(spec, cfg["layers"], shared_start_reader(cfg["init"]), B, dev)

    losses = [step(x0, t0).item() for _ in range(cfg["lossSteps"])]
    rng = np.random.default_rng(2)
    pool = 2_000
    xs = torch.from_numpy(rng.uniform(-1, 1, (pool, c0, h0, w0)).astype(np.float32))
    labels = rng.integers(0, classes, pool)
    return {"losses": losses, **timed_epochs(step, xs, labels, classes, B, cfg, dev)}


def main():
    cfg = json.loads(sys.argv[1])
    cpu = cfg.get("device") == "cpu"
    if not cpu and not torch.cuda.is_available():
        print(json.dumps({"unavailable": f"torch {torch.__version__} sees no CUDA device"}))
        return
    torch.backends.cuda.matmul.allow_tf32 = False
    torch.backends.cudnn.allow_tf32 = False
    if hasattr(torch, "set_float32_matmul_precision"):
        torch.set_float32_matmul_precision("highest")
    dev = torch.device("cpu" if cpu else "cuda")
    tasks = {"matmul": bench_matmul, "epoch": bench_epoch, "cnn-epoch": bench_cnn_epoch}
    out = tasks[cfg["task"]](cfg, dev)
    name = "CPU (a check of the script, not a figure)" if cpu else torch.cuda.get_device_name(0)
    out.update({"torch": torch.__version__, "cuda": torch.version.cuda, "device": name})
    print(json.dumps(out))


if __name__ == "__main__":
    main()
