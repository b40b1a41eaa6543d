#!/usr/bin/env python3
"""Writes the ConvNeXt parity fixture used by tests/compute/test-convnext.c.

The network below MIRRORS timm's ConvNeXt (timm/models/convnext.py: ConvNeXt, ConvNeXtStage,
ConvNeXtBlock with conv_mlp=False, LayerNorm2d/LayerNorm eps 1e-6, exact-erf GELU,
NormMlpClassifierHead with num_classes=0) with the same parameter names, so its state_dict
keys are timm's.  It is written out here because timm itself is not a Debian 12 package.
It should be regenerated with real timm on a GPU machine (where timm is installed): build
timm.create_model('convnext_atto', num_classes=0, depths=(1,1,2,1), dims=(8,16,32,64)), load
this script's state_dict into it, and check that the fixture does not change.

Contents (tests/fixtures/, < 1 MB, fixed seed 1234):
  convnext-tiny-fixture.safetensors        weights, timm names + logit_scale, F32
  convnext-tiny-fixture-ground.npy         query images, NCHW 2x3x70x100 (odd: 70->17->8->4->2)
  convnext-tiny-fixture-sat.npy            reference images, NCHW 2x3x64x64
  convnext-tiny-fixture-expected.safetensors
      emb.ground [2,64], emb.sat [2,64]    pre-L2 features as timm returns them
      loss []                              symmetric InfoNCE, label smoothing 0.1, B = 2 pairs
      grad.<name>                          d loss / d parameter for a few parameters
      grad.logit_scale []
Run:  python3 tools/make-timm-fixture.py   (needs python3-torch, python3-numpy)
"""
import json
import math
import os
import struct
import sys

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

DEPTHS = (1, 1, 2, 1)
DIMS = (8, 16, 32, 64)
SEED = 1234
OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tests", "fixtures")


class LayerNorm2d(nn.LayerNorm):
    """timm.layers.LayerNorm2d: LayerNorm over channels of an NCHW tensor."""

    def __init__(self, c):
        super().__init__(c, eps=1e-6)

    def forward(self, x):
        x = x.permute(0, 2, 3, 1)
        x = F.layer_norm(x, self.normalized_shape, self.weight, self.bias, self.eps)
        return x.permute(0, 3, 1, 2)


class Mlp(nn.Module):
    def __init__(self, d):
        super().__init__()
        self.fc1 = nn.Linear(d, 4 * d)
        self.act = nn.GELU()  # exact erf form, as timm's default
        self.fc2 = nn.Linear(4 * d, d)

    def forward(self, x):
        return self.fc2(self.act(self.fc1(x)))


class ConvNeXtBlock(nn.Module):
    def __init__(self, d, ls_init_value=1e-6):
        super().__init__()
        self.conv_dw = nn.Conv2d(d, d, 7, padding=3, groups=d, bias=True)
        self.norm = nn.LayerNorm(d, eps=1e-6)
        self.mlp = Mlp(d)
        self.gamma = nn.Parameter(ls_init_value * torch.ones(d))

    def forward(self, x):
        shortcut = x
        x = self.conv_dw(x)
        x = x.permute(0, 2, 3, 1)  # conv_mlp=False: channels-last norm + Linear MLP
        x = self.norm(x)
        x = self.mlp(x)
        x = x.permute(0, 3, 1, 2)
        x = x.mul(self.gamma.reshape(1, -1, 1, 1))
        return x + shortcut  # drop_path = identity


class ConvNeXtStage(nn.Module):
    def __init__(self, cin, cout, depth, stride):
        super().__init__()
        if cin != cout or stride > 1:
            self.downsample = nn.Sequential(LayerNorm2d(cin), nn.Conv2d(cin, cout, 2, stride=2))
        else:
            self.downsample = nn.Identity()
        self.blocks = nn.Sequential(*[ConvNeXtBlock(cout) for _ in range(depth)])

    def forward(self, x):
        return self.blocks(self.downsample(x))


class Head(nn.Module):
    """NormMlpClassifierHead(num_classes=0): avg pool -> LayerNorm -> flatten; fc = Identity."""

    def __init__(self, d):
        super().__init__()
        self.norm = LayerNorm2d(d)

    def forward(self, x):
        x = x.mean((2, 3), keepdim=True)
        return self.norm(x).flatten(1)


class ConvNeXt(nn.Module):
    def __init__(self, depths, dims):
        super().__init__()
        self.stem = nn.Sequential(nn.Conv2d(3, dims[0], 4, stride=4), LayerNorm2d(dims[0]))
        stages, prev = [], dims[0]
        for i in range(4):
            stages.append(ConvNeXtStage(prev, dims[i], depths[i], 1 if i == 0 else 2))
            prev = dims[i]
        self.stages = nn.Sequential(*stages)
        self.head = Head(dims[-1])

    def forward(self, x):
        return self.head(self.stages(self.stem(x)))


class TimmModel(nn.Module):
    """Sample4Geo's wrapper: shared backbone + logit_scale."""

    def __init__(self):
        super().__init__()
        self.model = ConvNeXt(DEPTHS, DIMS)
        self.logit_scale = nn.Parameter(torch.ones([]) * math.log(1 / 0.07))


def infonce(f1, f2, logit_scale, smoothing=0.1):
    q = F.normalize(f1, dim=-1)
    r = F.normalize(f2, dim=-1)
    logits = logit_scale.exp() * q @ r.T
    y = torch.arange(len(logits))
    ce = lambda z: F.cross_entropy(z, y, label_smoothing=smoothing)
    return (ce(logits) + ce(logits.T)) / 2


def randomise(model, g):
    # Non-default values everywhere (gamma 1e-6 would hide the blocks from the test).
    with torch.no_grad():
        for name, p in model.named_parameters():
            if name == "logit_scale":
                continue
            if name.endswith("gamma"):
                p.copy_(0.5 + 0.2 * torch.randn(p.shape, generator=g, dtype=p.dtype))
            elif p.ndim == 1 and ("norm" in name or "stem.1" in name or "downsample.0" in name):
                if name.endswith("weight"):
                    p.copy_(1 + 0.1 * torch.randn(p.shape, generator=g, dtype=p.dtype))
                else:
                    p.copy_(0.1 * torch.randn(p.shape, generator=g, dtype=p.dtype))
            elif p.ndim == 1:
                p.copy_(0.05 * torch.randn(p.shape, generator=g, dtype=p.dtype))
            else:
                fan_in = p[0].numel()
                p.copy_(torch.randn(p.shape, generator=g, dtype=p.dtype) / math.sqrt(fan_in))


def write_safetensors(path, tensors, metadata=None):
    header, blobs, off = {}, [], 0
    if metadata:
        header["__metadata__"] = metadata
    for name in sorted(tensors):
        a = np.ascontiguousarray(tensors[name], dtype="<f4")
        b = a.tobytes()
        header[name] = {"dtype": "F32", "shape": list(a.shape), "data_offsets": [off, off + len(b)]}
        blobs.append(b)
        off += len(b)
    h = json.dumps(header, separators=(",", ":")).encode()
    h += b" " * ((8 - len(h) % 8) % 8)
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(h)))
        f.write(h)
        for b in blobs:
            f.write(b)


GRAD_PARAMS = [
    "stem.0.weight",
    "stem.1.bias",
    "stages.1.downsample.0.weight",
    "stages.1.downsample.1.weight",
    "stages.2.blocks.1.conv_dw.weight",
    "stages.2.blocks.1.mlp.fc1.weight",
    "stages.2.blocks.0.norm.weight",
    "stages.3.blocks.0.gamma",
    "stages.3.blocks.0.mlp.fc2.bias",
    "head.norm.weight",
]


def main():
    torch.manual_seed(SEED)
    g = torch.Generator().manual_seed(SEED)
    net = TimmModel().double()
    randomise(net, g)
    ground = torch.randn(2, 3, 70, 100, generator=g, dtype=torch.float64)
    sat = torch.randn(2, 3, 64, 64, generator=g, dtype=torch.float64)
    # Round inputs and weights to float32 first so the C code sees exactly these values.
    with torch.no_grad():
        for p in net.parameters():
            p.copy_(p.float().double())
    ground, sat = ground.float().double(), sat.float().double()

    f1, f2 = net.model(ground), net.model(sat)
    loss = infonce(f1, f2, net.logit_scale)
    loss.backward()

    os.makedirs(OUT, exist_ok=True)
    weights = {k: v.detach().float().numpy() for k, v in net.model.state_dict().items()}
    weights["logit_scale"] = net.logit_scale.detach().float().numpy()
    write_safetensors(os.path.join(OUT, "convnext-tiny-fixture.safetensors"), weights,
                      {"source": "tools/make-timm-fixture.py (timm mirror)"})
    np.save(os.path.join(OUT, "convnext-tiny-fixture-ground.npy"), ground.float().numpy())
    np.save(os.path.join(OUT, "convnext-tiny-fixture-sat.npy"), sat.float().numpy())
    params = dict(net.model.named_parameters())
    exp = {
        "emb.ground": f1.detach().float().numpy(),
        "emb.sat": f2.detach().float().numpy(),
        "loss": loss.detach().float().numpy(),
        "grad.logit_scale": net.logit_scale.grad.float().numpy(),
    }
    for n in GRAD_PARAMS:
        exp["grad." + n] = params[n].grad.float().numpy()
    write_safetensors(os.path.join(OUT, "convnext-tiny-fixture-expected.safetensors"), exp)
    print("loss %.6f  logit_scale grad %.6f" % (loss.item(), net.logit_scale.grad.item()))
    print("emb.ground[0,:4]", f1[0, :4].tolist())
    return 0


if __name__ == "__main__":
    sys.exit(main())
