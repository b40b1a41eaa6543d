#!/usr/bin/env python3
"""Writes the PyTorch-checkpoint fixtures used by tests/compute/test-pth.c, with the real
torch.save (python3-torch from Debian; tools/install-deps installs it).

One small random ConvNeXt (depths 1,1,1,1, dims 8,16,24,32: ~26k parameters, timm's
parameter names and shapes, see tools/make-timm-fixture.py for the network itself) is saved in
every layout s4g reads (compute/s4g-weights.h).  Values are random, not trained: the tests
compare the features each file gives with the features of reference.safetensors (the same
values written as safetensors), so only the reading is under test.

tests/fixtures/pth/ (fixed seed 1212):
  reference.safetensors     timm names + logit_scale, F32: the expected values
  reference-f16.safetensors / reference-bf16.safetensors   the same rounded to F16 / BF16
  timm.pth                  timm names, OrderedDict with _metadata (as module.state_dict())
  s4g-timmmodel.pth         Sample4Geo TimmModel: model.<timm> + logit_scale, as Parameters
  dataparallel.pth          DataParallel around TimmModel: module.model.<timm>, module.logit_scale
  facebook.pth              {"model": Facebook ConvNeXt names + 10-class head}
  timm-imagenet.pth         timm names + head.fc.weight/bias (10 classes)
  timm-imagenet.safetensors the same as safetensors
  f16.pth / bf16.pth        timm names, half / bfloat16 storages (bf16 with pickle protocol 4)
  noncontig.pth             transposed, permuted, offset and storage-sharing views
  nested.pth                {"model": TimmModel names, "optimizer": AdamW state, "epoch": 3}
  state-dict-args.pth       {"state_dict": timm names, "args": argparse.Namespace(...)}
  legacy.pth                the pre-1.6 format (_use_new_zipfile_serialization=False)
  compressed.pth            timm.pth with its entries deflated (torch never writes this)
  module-object.pth         a whole pickled nn.Module (refused: it would run code)
  refused-global.pth        a state dict with an argparse.Namespace among the tensors
  short-storage.pth         timm.pth with storage data/0 cut to half its size (valid zip)
  zip64.pth                 timm.pth rewritten with ZIP64 local headers and a ZIP64
                            end-of-central-directory record (torch writes them past 4 GiB)
tests/fuzz/corpus-pth/ and corpus-pickle/: tiny checkpoints (and their data.pkl) as fuzzing
seeds: each layout above on a few small tensors, views, F16/BF16, protocol 2 and 4.
Run:  python3 tools/make-pth-fixtures.py   (needs python3-torch; no numpy)
"""
import argparse
import collections
import json
import os
import struct
import sys
import zipfile

import torch

DEPTHS = (1, 1, 1, 1)
DIMS = (8, 16, 24, 32)
SEED = 1212
CLASSES = 10
OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tests", "fixtures", "pth")


def timm_weights(g):
    """timm's ConvNeXt state_dict names and shapes (num_classes=0), random values."""
    w = collections.OrderedDict()

    def rnd(*shape, scale=0.2, base=0.0):
        return base + scale * torch.randn(*shape, generator=g)

    d0 = DIMS[0]
    w["stem.0.weight"] = rnd(d0, 3, 4, 4)
    w["stem.0.bias"] = rnd(d0)
    w["stem.1.weight"] = rnd(d0, scale=0.1, base=1.0)
    w["stem.1.bias"] = rnd(d0, scale=0.1)
    for i, (depth, d) in enumerate(zip(DEPTHS, DIMS)):
        if i > 0:
            p = DIMS[i - 1]
            w["stages.%d.downsample.0.weight" % i] = rnd(p, scale=0.1, base=1.0)
            w["stages.%d.downsample.0.bias" % i] = rnd(p, scale=0.1)
            w["stages.%d.downsample.1.weight" % i] = rnd(d, p, 2, 2)
            w["stages.%d.downsample.1.bias" % i] = rnd(d)
        for j in range(depth):
            b = "stages.%d.blocks.%d." % (i, j)
            w[b + "conv_dw.weight"] = rnd(d, 1, 7, 7)
            w[b + "conv_dw.bias"] = rnd(d)
            w[b + "norm.weight"] = rnd(d, scale=0.1, base=1.0)
            w[b + "norm.bias"] = rnd(d, scale=0.1)
            w[b + "mlp.fc1.weight"] = rnd(4 * d, d)
            w[b + "mlp.fc1.bias"] = rnd(4 * d)
            w[b + "mlp.fc2.weight"] = rnd(d, 4 * d, scale=0.1)
            w[b + "mlp.fc2.bias"] = rnd(d)
            w[b + "gamma"] = rnd(d, scale=0.2, base=0.5)
    w["head.norm.weight"] = rnd(DIMS[3], scale=0.1, base=1.0)
    w["head.norm.bias"] = rnd(DIMS[3], scale=0.1)
    return w


def facebook_name(k):
    """timm -> facebookresearch/ConvNeXt models/convnext.py names."""
    p = k.split(".")
    if p[0] == "stem":
        return "downsample_layers.0.%s.%s" % (p[1], p[2])
    if p[0] == "stages" and p[2] == "downsample":
        return "downsample_layers.%s.%s.%s" % (p[1], p[3], p[4])
    if p[0] == "stages":
        rest = ".".join(p[5:])
        part = {"conv_dw": "dwconv", "norm": "norm", "gamma": "gamma"}.get(p[4])
        if p[4] == "mlp":
            part, rest = {"fc1": "pwconv1", "fc2": "pwconv2"}[p[5]], ".".join(p[6:])
        return "stages.%s.%s.%s" % (p[1], p[3], part + ("." + rest if rest else ""))
    if p[0] == "head" and p[1] == "norm":
        return "norm." + p[2]
    raise KeyError(k)


def f16_bytes(t):
    return b"".join(struct.pack("<e", x) for x in t.half().float().flatten().tolist())


def bf16_bytes(t):
    out = []
    for x in t.bfloat16().float().flatten().tolist():  # torch rounds; the cut is then exact
        out.append(struct.pack("<H", struct.unpack("<I", struct.pack("<f", x))[0] >> 16))
    return b"".join(out)


def write_safetensors(path, tensors, dtype="F32"):
    header, blobs, off = {}, [], 0
    for name in sorted(tensors):
        t = tensors[name].contiguous()
        if dtype == "F32":
            b = struct.pack("<%df" % t.numel(), *t.flatten().tolist())
        elif dtype == "F16":
            b = f16_bytes(t)
        else:
            b = bf16_bytes(t)
        header[name] = {"dtype": dtype, "shape": list(t.shape), "data_offsets": [off, off + len(b)]}
        blobs.append(b)
        off += len(b)
    h = json.dumps(header, separators=(",", ":")).encode()
    h += b" " * ((8 - len(h) % 8) % 8)
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(h)))
        f.write(h)
        for b in blobs:
            f.write(b)


def state_dict(d):
    """An OrderedDict with the _metadata attribute, as nn.Module.state_dict() returns."""
    sd = collections.OrderedDict(d)
    sd._metadata = collections.OrderedDict([("", {"version": 1})])
    return sd


def noncontig(w):
    """The same values as w, stored as views that are not plain contiguous storages."""
    out = collections.OrderedDict()
    for k, v in w.items():
        out[k] = v.clone()
    # transposed: strides (1, rows)
    k = "stages.2.blocks.0.mlp.fc1.weight"
    out[k] = w[k].t().contiguous().t()
    # permuted 4-d view (channels-last storage of an OIHW weight)
    k = "stem.0.weight"
    out[k] = w[k].permute(0, 2, 3, 1).contiguous().permute(0, 3, 1, 2)
    # a view at an offset inside a larger storage
    k = "stages.1.blocks.0.conv_dw.weight"
    big = torch.randn(1000 + w[k].numel(), generator=torch.Generator().manual_seed(5))
    big[1000:] = w[k].flatten()
    out[k] = big[1000:].view(w[k].shape)
    # two tensors sharing one storage
    a, b = "stages.3.blocks.0.norm.bias", "stages.3.blocks.0.mlp.fc2.bias"
    buf = torch.cat([w[a], w[b]])
    out[a], out[b] = buf[: w[a].numel()], buf[w[a].numel():]
    # a strided (every other element) slice
    k = "head.norm.weight"
    wide = torch.zeros(2 * w[k].numel())
    wide[::2] = w[k]
    out[k] = wide[::2]
    assert not out["stages.2.blocks.0.mlp.fc1.weight"].is_contiguous()
    assert not out["head.norm.weight"].is_contiguous()
    return out


def write_fuzz_seeds(g):
    fuzz = os.path.join(OUT, "..", "..", "fuzz")
    cp, ck = os.path.join(fuzz, "corpus-pth"), os.path.join(fuzz, "corpus-pickle")
    os.makedirs(cp, exist_ok=True)
    os.makedirs(ck, exist_ok=True)
    a = torch.randn(3, 4, generator=g)
    shared = torch.randn(6, generator=g)
    seeds = {
        "plain": state_dict([("stem.0.bias", a[0]), ("head.norm.weight", a)]),
        "views": state_dict([("t", a.t()), ("s0", shared[:2]), ("s1", shared[2:]), ("step", a[:, ::2])]),
        "f16-bf16": state_dict([("h", a.half()), ("b", a.bfloat16()), ("d", a.double()),
                                ("n", torch.tensor(7)), ("i", torch.arange(3, dtype=torch.int32))]),
        "nested": {"model": collections.OrderedDict([("model.x", torch.nn.Parameter(a[1]))]),
                   "epoch": 3, "lr": 0.5, "name": "run", "flags": [True, None], "t": (1, 2)},
        "module": {"module.stages.0.blocks.0.gamma": a[2]},
    }
    for name, obj in seeds.items():
        for proto in (2, 4):
            path = os.path.join(cp, "%s-p%d.pth" % (name, proto))
            torch.save(obj, path, pickle_protocol=proto)
            with zipfile.ZipFile(path) as z:
                pkl = [n for n in z.namelist() if n.endswith("/data.pkl")][0]
                with open(os.path.join(ck, "%s-p%d.pkl" % (name, proto)), "wb") as f:
                    f.write(z.read(pkl))


def fixed(name, method=zipfile.ZIP_STORED):
    """A zip entry with a fixed time stamp, so that rewriting the fixtures changes no byte."""
    zi = zipfile.ZipInfo(name, date_time=(2020, 1, 1, 0, 0, 0))
    zi.compress_type = method
    return zi


def main():
    torch.manual_seed(SEED)  # nn.Linear's initialisation (module-object.pth)
    g = torch.Generator().manual_seed(SEED)
    os.makedirs(OUT, exist_ok=True)
    w = timm_weights(g)
    logit = torch.tensor(2.659260036932778 + 0.25)
    head_w, head_b = 0.1 * torch.randn(CLASSES, DIMS[3], generator=g), 0.1 * torch.randn(CLASSES, generator=g)
    P = lambda name: os.path.join(OUT, name)

    ref = dict(w)
    ref["logit_scale"] = logit
    write_safetensors(P("reference.safetensors"), ref)
    write_safetensors(P("reference-f16.safetensors"), w, "F16")
    write_safetensors(P("reference-bf16.safetensors"), w, "BF16")

    torch.save(state_dict(w), P("timm.pth"))
    s4g = collections.OrderedDict(("model." + k, torch.nn.Parameter(v.clone())) for k, v in w.items())
    s4g["logit_scale"] = torch.nn.Parameter(logit.clone())
    torch.save(s4g, P("s4g-timmmodel.pth"))
    dp = state_dict(("module." + k, v.detach()) for k, v in s4g.items())
    torch.save(dp, P("dataparallel.pth"))
    fb = collections.OrderedDict((facebook_name(k), v) for k, v in w.items())
    fb["head.weight"], fb["head.bias"] = head_w, head_b
    torch.save({"model": fb}, P("facebook.pth"))
    imnet = collections.OrderedDict(w)
    imnet["head.fc.weight"], imnet["head.fc.bias"] = head_w, head_b
    torch.save(state_dict(imnet), P("timm-imagenet.pth"))
    write_safetensors(P("timm-imagenet.safetensors"), imnet)
    torch.save(state_dict((k, v.half()) for k, v in w.items()), P("f16.pth"))
    torch.save(state_dict((k, v.bfloat16()) for k, v in w.items()), P("bf16.pth"), pickle_protocol=4)
    torch.save(state_dict(noncontig(w)), P("noncontig.pth"))

    params = list(s4g.values())
    opt = torch.optim.AdamW(params[:4], lr=1e-3)  # a few: keeps the file small
    for p in params:
        p.grad = torch.ones_like(p)
    opt.step()
    # the model entry holds the values from before the step (the reference values)
    model = state_dict(("model." + k, v) for k, v in w.items())
    model["logit_scale"] = logit
    torch.save({"model": model, "optimizer": opt.state_dict(), "epoch": 3}, P("nested.pth"))
    torch.save({"state_dict": state_dict(w), "args": argparse.Namespace(lr=1e-4, epochs=40)},
               P("state-dict-args.pth"))
    torch.save(state_dict(w), P("legacy.pth"), _use_new_zipfile_serialization=False)
    with zipfile.ZipFile(P("timm.pth")) as src, \
            zipfile.ZipFile(P("compressed.pth"), "w", zipfile.ZIP_DEFLATED) as dst:
        for info in src.infolist():
            dst.writestr(fixed(info.filename, zipfile.ZIP_DEFLATED), src.read(info.filename))
    torch.save(torch.nn.Linear(2, 2), P("module-object.pth"))
    bad = state_dict(w)
    bad["stem.0.bias"] = argparse.Namespace(x=1)
    torch.save(bad, P("refused-global.pth"))
    with zipfile.ZipFile(P("timm.pth")) as src, \
            zipfile.ZipFile(P("short-storage.pth"), "w", zipfile.ZIP_STORED) as dst:
        for info in src.infolist():
            data = src.read(info.filename)
            if info.filename.endswith("/data/0"):
                data = data[: len(data) // 2]
            dst.writestr(fixed(info.filename), data)
    with zipfile.ZipFile(P("timm.pth")) as src, \
            zipfile.ZipFile(P("zip64.pth"), "w", zipfile.ZIP_STORED) as dst:
        for info in src.infolist():
            with dst.open(fixed(info.filename), "w", force_zip64=True) as f:
                f.write(src.read(info.filename))
        # a ZIP64 end record too: Python writes one when the entry count needs it
        zipfile.ZIP_FILECOUNT_LIMIT, saved = 1, zipfile.ZIP_FILECOUNT_LIMIT
    zipfile.ZIP_FILECOUNT_LIMIT = saved

    write_fuzz_seeds(g)

    # the fixtures must read back in torch as written
    back = torch.load(P("noncontig.pth"))
    assert all(torch.equal(back[k], w[k]) for k in w)
    total = sum(os.path.getsize(P(f)) for f in os.listdir(OUT))
    print("%d files, %d bytes in %s (torch %s)" % (len(os.listdir(OUT)), total, OUT, torch.__version__))
    return 0


if __name__ == "__main__":
    sys.exit(main())
