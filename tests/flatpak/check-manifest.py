#!/usr/bin/env python3
"""Validates flatpak/org.sample4geo.Studio.json without Flathub: structure, pinned sources,
finish-args, and every module's config-opts against the options that module's own build
system defines (flatpak/module-options.json; the app's from meson_options.txt).

usage: check-manifest.py SRCDIR [MANIFEST]
"""
import json, re, sys, os

def fail(msg):
    print("check-manifest: " + msg, file=sys.stderr)
    sys.exit(1)

src = sys.argv[1]
man_path = sys.argv[2] if len(sys.argv) > 2 else os.path.join(src, "flatpak", "org.sample4geo.Studio.json")
try:
    man = json.load(open(man_path))
except (OSError, ValueError) as e:
    fail(f"{man_path}: {e}")
known = json.load(open(os.path.join(src, "flatpak", "module-options.json")))

for key in ("id", "runtime", "runtime-version", "sdk", "command", "finish-args", "modules"):
    if key not in man:
        fail(f"{man_path}: missing key '{key}'")
if man["id"] != "org.sample4geo.Studio":
    fail(f"id is {man['id']!r}, the app id is org.sample4geo.Studio")
if man["runtime"] != "org.gnome.Platform" or man["sdk"] != "org.gnome.Sdk":
    fail("runtime/sdk must be org.gnome.Platform/org.gnome.Sdk")
if not re.fullmatch(r"\d+", man["runtime-version"]):
    fail(f"runtime-version {man['runtime-version']!r} is not a GNOME release number")

allowed_args = {"--share=ipc", "--share=network", "--socket=fallback-x11", "--socket=wayland",
                "--device=dri"}
for a in man["finish-args"]:
    if a not in allowed_args:
        fail(f"finish-arg {a!r} is not in the reviewed set {sorted(allowed_args)}")
for need in ("--socket=wayland", "--socket=fallback-x11", "--device=dri", "--share=ipc"):
    if need not in man["finish-args"]:
        fail(f"finish-args lack {need}")

def meson_options(path):
    text = open(path).read()
    out = {}
    for m in re.finditer(r"option\(\s*'([^']+)'\s*,(.*?)\)\s*$", text, re.S | re.M):
        t = re.search(r"type\s*:\s*'([a-z]+)'", m.group(2)).group(1)
        ch = re.search(r"choices\s*:\s*\[([^\]]*)\]", m.group(2))
        out[m.group(1)] = {"type": t}
        if ch:
            out[m.group(1)]["choices"] = re.findall(r"'([^']*)'", ch.group(1))
    return out

def check_value(mod, name, spec, value):
    t = spec["type"]
    ok = {"boolean": value in ("true", "false"),
          "feature": value in ("enabled", "disabled", "auto"),
          "combo": value in spec.get("choices", []),
          "bool": value.upper() in ("ON", "OFF", "TRUE", "FALSE", "1", "0"),
          }.get(t, True)
    if "choices" in spec and t not in ("array",) and value not in spec["choices"]:
        ok = False
    if not ok:
        fail(f"module {mod}: option {name}={value} is not a valid {t} value")

meson_builtins = {"--libdir", "--prefix", "--buildtype", "-Dbuildtype", "-Db_ndebug"}
names = []
for i, mod in enumerate(man["modules"]):
    name = mod.get("name")
    names.append(name)
    bs = mod.get("buildsystem")
    if bs not in ("meson", "cmake", "cmake-ninja", "autotools", "simple"):
        fail(f"module {name}: unknown buildsystem {bs!r}")
    srcs = mod.get("sources") or fail(f"module {name}: no sources")
    last = i == len(man["modules"]) - 1
    for s in srcs:
        if last:
            if s.get("type") != "dir" or s.get("path") != "..":
                fail("the app module must be last and build this source tree (type dir, path ..)")
            continue
        if s.get("type") != "archive":
            fail(f"module {name}: source type {s.get('type')!r}; pin release archives")
        if not str(s.get("url", "")).startswith("https://"):
            fail(f"module {name}: url must be https")
        if not re.fullmatch(r"[0-9a-f]{64}", str(s.get("sha256", ""))):
            fail(f"module {name}: missing or malformed sha256")
    opts = known.get(name)
    if last:
        opts = meson_options(os.path.join(src, "meson_options.txt"))
    if opts is None:
        fail(f"module {name}: no recorded build options in flatpak/module-options.json")
    for o in mod.get("config-opts", []):
        if bs == "meson":
            if o.split("=")[0] in meson_builtins:
                continue
            m = re.fullmatch(r"-D([A-Za-z0-9_\-]+)=(.*)", o)
            if not m:
                fail(f"module {name}: config-opt {o!r} is not -Dname=value")
        else:
            m = re.fullmatch(r"-D([A-Za-z0-9_]+)(?::[A-Z]+)?=(.*)", o)
            if not m:
                fail(f"module {name}: config-opt {o!r} is not -DNAME=value")
            if m.group(1).startswith("CMAKE_"):
                continue
        if m.group(1) not in opts:
            fail(f"module {name}: option {m.group(1)!r} does not exist in its build system")
        check_value(name, m.group(1), opts[m.group(1)], m.group(2))

if names[-1] != "sample4geo-studio":
    fail("the last module must be the app")
print(f"check-manifest: OK ({len(names)} modules: {', '.join(names)})")
