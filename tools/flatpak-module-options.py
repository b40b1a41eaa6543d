#!/usr/bin/env python3
"""Prints the CMake options a module's source tree defines, as flatpak/module-options.json
records them ({"NAME": {"type": "bool"}, ...}), so the manifest check compares config-opts
against the module's own build system.  Reads option()/cmake_dependent_option() calls and the
option-defining macros of GDAL (gdal_*_format → GDAL_ENABLE_DRIVER_*, ogr_*_driver →
OGR_ENABLE_DRIVER_*, gdal_check_package → GDAL_USE_*) and libheif (plugin_option → WITH_*,
WITH_*_PLUGIN); include(CTest) adds BUILD_TESTING.

usage: flatpak-module-options.py SOURCE-DIR   (an unpacked release archive)
"""
import json, os, re, sys

root = sys.argv[1]
opts = set()
for dp, dn, fn in os.walk(root):
    for f in fn:
        if f != "CMakeLists.txt" and not f.endswith(".cmake"):
            continue
        t = open(os.path.join(dp, f), errors="replace").read()
        for m in re.finditer(r"(?<![A-Za-z_])(?:option|cmake_dependent_option)\(\s*([A-Za-z][A-Za-z0-9_]+)\s", t):
            opts.add(m.group(1))
        for m in re.finditer(r"gdal_(?:dependent|optional)_format\(\s*(\w+)[^)]*?(?:DRIVER_NAME_OPTION\s+\"?(\w+)\"?)?\s*\)", t, re.S):
            opts.add("GDAL_ENABLE_DRIVER_" + (m.group(2) or m.group(1)).upper())
        for m in re.finditer(r"ogr_(?:dependent|optional)_driver\(\s*(\w+)", t):
            opts.add("OGR_ENABLE_DRIVER_" + m.group(1).upper())
        for m in re.finditer(r"gdal_check_package\(\s*(\w+)", t):
            opts.add("GDAL_USE_" + m.group(1).upper())
        for m in re.finditer(r"plugin_option\(\s*(\w+)", t):
            opts.add("WITH_" + m.group(1))
            opts.add("WITH_" + m.group(1) + "_PLUGIN")
        if re.search(r"include\(\s*CTest\s*\)", t):
            opts.add("BUILD_TESTING")
# macro-defined option names (option(WITH_${x} ...)) are not literal names
opts = {o for o in opts if "$" not in o}
print(json.dumps({k: {"type": "bool"} for k in sorted(opts)}, indent=1))
