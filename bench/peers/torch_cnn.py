#!/usr/bin/python3
"""Peer: the benchmarked CNN's training step (bench/cnn-spec.ts: the CIFAR-10 paper network, or
cifar10-small's) in PyTorch on the CPU.

Run by bench/peers/torch-cnn.ts as a child process in the same benchmark run:
    /usr/bin/python3 torch_cnn.py CONFIG_JSON
CONFIG_JSON: {"spec": CnnSpec, "layers": [LayerSpec] (src/nn/architecture.ts's parse of the
architecture), "init": path of the shared start (float32 little-endian: the weights of each
layer, [kh, kw, Cin, Cout] or [in, out] row-major, then x [batch, 32, 32, 3] NHWC, then targets
[batch, classes]), "batch": n, "threads": n, "lossSteps": k, "warmup": w, "runs": r, "minRunMs": ms, "profile": n (optional)}.
Prints one JSON object: {"torch": version, "threads": n, "losses": [k floats],
"seconds": [r seconds per step], "repsPerRun": n, "profile": the per-operator table of n more steps
(bc_torch.py profile_table) when asked} - or {"unavailable": reason}.

The network is what a PyTorch user would write (bc_torch.py cnn_network): F.conv2d (oneDNN on
the CPU) and torch.mm on the straight-through sign of W, F.max_pool2d, F.batch_norm (standard
variant), ReLU, square hinge loss, torch.optim.Adam with Lasagne's eps placement, the clip of W.
The timed steps train on the shared start's batch, after the loss steps and the warm-up.
"""
from bc_torch import cnn_network, peer_config, report_steps, shared_start_reader  # without torch: "unavailable"


def main():
    cfg = peer_config()
    step, x, targets = cnn_network(cfg["spec"], cfg["layers"], shared_start_reader(cfg["init"]), cfg["batch"], "cpu")

    def one():
        return step(x, targets).item()

    report_steps(one, cfg)


if __name__ == "__main__":
    main()
