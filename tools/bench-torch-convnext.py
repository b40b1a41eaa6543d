#!/usr/bin/env python3
"""Baseline for `s4g bench`: the same ConvNeXt (timm mirror from make-timm-fixture.py) and the
same Sample4Geo step in PyTorch on the CPU, fp32, same sizes, same timing rule (one warm-up,
then repeat until --seconds pass, at least 2 iterations).  Prints JSON with the same keys as
`s4g bench --json`, so the two can be divided.

  python3 tools/bench-torch-convnext.py --arch atto --size 128x128 --batch 8
"""
import argparse
import importlib.util
import json
import math
import os
import time

import torch

HERE = os.path.dirname(os.path.abspath(__file__))
spec = importlib.util.spec_from_file_location("fx", os.path.join(HERE, "make-timm-fixture.py"))
fx = importlib.util.module_from_spec(spec)
spec.loader.exec_module(fx)

PRESETS = {
    "atto": ((2, 2, 6, 2), (40, 80, 160, 320)),
    "femto": ((2, 2, 6, 2), (48, 96, 192, 384)),
    "pico": ((2, 2, 6, 2), (64, 128, 256, 512)),
    "nano": ((2, 2, 8, 2), (80, 160, 320, 640)),
    "tiny": ((3, 3, 9, 3), (96, 192, 384, 768)),
    "small": ((3, 3, 27, 3), (96, 192, 384, 768)),
    "base": ((3, 3, 27, 3), (128, 256, 512, 1024)),
}


def timed(fn, seconds):
    """iterations, wall seconds, CPU seconds of the process (all threads)"""
    fn()
    t0, c0, it = time.perf_counter(), time.process_time(), 0
    while it < 2 or time.perf_counter() - t0 < seconds:
        fn()
        it += 1
    return it, time.perf_counter() - t0, time.process_time() - c0


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--arch", default="atto")
    ap.add_argument("--size", default="128x128")
    ap.add_argument("--ref-size", default=None,
                    help="reference (satellite) view HxW of the training step (default --size)")
    ap.add_argument("--batch", type=int, default=8)
    ap.add_argument("--seconds", type=float, default=4)
    ap.add_argument("--threads", type=int, default=0)
    a = ap.parse_args()
    if a.threads:
        torch.set_num_threads(a.threads)
    H, W = map(int, a.size.split("x"))
    Hr, Wr = map(int, (a.ref_size or a.size).split("x"))
    depths, dims = PRESETS[a.arch]
    torch.manual_seed(1)
    net = fx.ConvNeXt(depths, dims)
    logit_scale = torch.nn.Parameter(torch.ones([]) * math.log(1 / 0.07))
    B = a.batch
    x = torch.randn(B, 3, H, W)
    with torch.no_grad():
        net.eval()
        it, s, cs = timed(lambda: net(x), a.seconds)
    infer, infer_cpu = it * B / s, it * B / cs
    net.train()
    params = list(net.parameters()) + [logit_scale]
    opt = torch.optim.AdamW(params, lr=1e-3, weight_decay=0.01)
    q, r = torch.randn(B, 3, H, W), torch.randn(B, 3, Hr, Wr)
    last = {}

    def step():
        loss = fx.infonce(net(q), net(r), logit_scale)
        loss.backward()
        torch.nn.utils.clip_grad_value_(params, 100.0)
        opt.step()
        opt.zero_grad()
        last["loss"] = loss.item()

    it, s, cs = timed(step, a.seconds)
    print(json.dumps({
        "device": "torch %s cpu (%d threads)" % (torch.__version__, torch.get_num_threads()),
        "arch": a.arch, "height": H, "width": W, "ref_height": Hr, "ref_width": Wr, "batch": B,
        "inference_img_per_s": round(infer, 3), "train_pairs_per_s": round(it * B / s, 3),
        "inference_img_per_cpu_s": round(infer_cpu, 3), "train_pairs_per_cpu_s": round(it * B / cs, 3),
        "train_loss": round(last["loss"], 5)}))


if __name__ == "__main__":
    main()
