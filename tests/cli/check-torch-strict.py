#!/usr/bin/env python3
"""Checks that a .pth written by `s4g model export --format pth` is what the original
Sample4Geo code loads: torch.load, then TimmModel.load_state_dict(..., strict=True) on a module
tree whose state_dict keys and shapes are timm's ConvNeXt (no timm on Debian: the tree is built
here with timm's names, sample4geo-reference.md §1.2) under "model." plus "logit_scale".  Then
compares the loaded parameters with safetensors files written independently (timm names,
"logit_scale" where present): every tensor equal, bit for bit.

usage: check-torch-strict.py PTH DEPTHS DIMS REFERENCE.safetensors...
       DEPTHS, DIMS: "1,1,1,1" "8,16,24,32".   Exit 77 (skip) when torch is absent."""
import json
import math
import struct
import sys

try:
    import torch
    import torch.nn as nn
except ImportError:
    print("python3-torch is not installed", file=sys.stderr)
    sys.exit(77)


class Mlp(nn.Module):
    def __init__(self, d):
        super().__init__()
        self.fc1 = nn.Linear(d, 4 * d)
        self.fc2 = nn.Linear(4 * d, d)


class Block(nn.Module):
    def __init__(self, d):
        super().__init__()
        self.conv_dw = nn.Conv2d(d, d, 7, padding=3, groups=d)
        self.norm = nn.LayerNorm(d, eps=1e-6)
        self.mlp = Mlp(d)
        self.gamma = nn.Parameter(1e-6 * torch.ones(d))


class Stage(nn.Module):
    def __init__(self, cin, cout, depth, first):
        super().__init__()
        self.downsample = (nn.Identity() if first else
                           nn.Sequential(nn.LayerNorm(cin, eps=1e-6), nn.Conv2d(cin, cout, 2, 2)))
        self.blocks = nn.Sequential(*[Block(cout) for _ in range(depth)])


class Head(nn.Module):
    def __init__(self, d):
        super().__init__()
        self.norm = nn.LayerNorm(d, eps=1e-6)


class ConvNeXt(nn.Module):  # timm's names: stem.0/1, stages.i.{downsample,blocks.j}, head.norm
    def __init__(self, depths, dims):
        super().__init__()
        self.stem = nn.Sequential(nn.Conv2d(3, dims[0], 4, 4), nn.LayerNorm(dims[0], eps=1e-6))
        self.stages = nn.Sequential(*[Stage(dims[max(i - 1, 0)], dims[i], depths[i], i == 0)
                                      for i in range(4)])
        self.head = Head(dims[-1])


class TimmModel(nn.Module):  # sample4geo/model.py
    def __init__(self, depths, dims):
        super().__init__()
        self.model = ConvNeXt(depths, dims)
        self.logit_scale = nn.Parameter(torch.ones([]) * math.log(1 / 0.07))


def read_safetensors(path):
    raw = open(path, "rb").read()
    (n,) = struct.unpack("<Q", raw[:8])
    header = json.loads(raw[8:8 + n])
    out = {}
    for name, t in header.items():
        if name == "__metadata__":
            continue
        assert t["dtype"] == "F32", (path, name, t["dtype"])
        a, b = t["data_offsets"]
        data = bytearray(raw[8 + n + a:8 + n + b])
        out[name] = torch.frombuffer(data, dtype=torch.float32).reshape(t["shape"])
    return out


def main():
    pth, depths, dims = sys.argv[1], sys.argv[2], sys.argv[3]
    depths = [int(x) for x in depths.split(",")]
    dims = [int(x) for x in dims.split(",")]
    model = TimmModel(depths, dims)
    sd = torch.load(pth, map_location="cpu")
    assert type(sd).__name__ == "OrderedDict", type(sd)
    model.load_state_dict(sd, strict=True)  # raises on any missing/unexpected key or shape
    mine = model.state_dict()
    compared = 0
    for ref in sys.argv[4:]:
        for name, t in read_safetensors(ref).items():
            key = name if name == "logit_scale" else "model." + name
            assert key in mine, (ref, name)
            assert mine[key].shape == t.shape, (key, mine[key].shape, t.shape)
            assert torch.equal(mine[key], t), (ref, key, (mine[key] - t).abs().max())
            compared += 1
    print("torch %s: load_state_dict(strict=True) accepted %d tensors; %d compared equal"
          % (torch.__version__, len(sd), compared))
    return 0


if __name__ == "__main__":
    sys.exit(main())
