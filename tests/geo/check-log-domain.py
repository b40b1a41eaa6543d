#!/usr/bin/env python3
"""Every C file of app/ is compiled with a GLib log domain.

Usage: check-log-domain.py COMPILE_COMMANDS_JSON SOURCE_ROOT

Reads the compile commands meson wrote for this build: for each app/**/*.c compiled, the
domain is the -DG_LOG_DOMAIN="..." of its command (each folder's target sets one, see
app/meson.build) or a `#define G_LOG_DOMAIN` in the file itself.  Fails, naming file and
line, when a file gets none (its messages would carry no domain), when a file's own define
differs from its target's (one of them is silently ignored, with a compiler warning), when it
repeats its target's (one place states the domain: the folder's meson.build), or when a
domain is not a string literal starting with "s4g".
"""
import json
import os
import re
import shlex
import sys

DEFINE = re.compile(r'^\s*#\s*define\s+G_LOG_DOMAIN\s+(.*?)\s*$')


def command_domains(entry):
    args = entry.get("arguments") or shlex.split(entry["command"])
    out = []
    for i, a in enumerate(args):
        if a == "-D" and i + 1 < len(args):
            a = "-D" + args[i + 1]
        if a.startswith("-DG_LOG_DOMAIN="):
            out.append(a[len("-DG_LOG_DOMAIN="):])
    return out


def file_defines(path):
    out = []
    with open(path, encoding="utf-8") as f:
        for n, line in enumerate(f, 1):
            m = DEFINE.match(line)
            if m:
                out.append((n, m.group(1)))
    return out


def main():
    if len(sys.argv) != 3:
        sys.exit(__doc__)
    with open(sys.argv[1], encoding="utf-8") as f:
        entries = json.load(f)
    app_dir = os.path.join(os.path.realpath(sys.argv[2]), "app") + os.sep
    problems, checked = [], 0
    for e in entries:
        path = os.path.realpath(os.path.join(e["directory"], e["file"]))
        if not path.startswith(app_dir) or not path.endswith(".c"):
            continue
        checked += 1
        rel = os.path.relpath(path, os.path.dirname(app_dir.rstrip(os.sep)))
        cmd = command_domains(e)
        own = file_defines(path)
        if not cmd and not own:
            problems.append(f"{rel}: compiled without G_LOG_DOMAIN (its target's c_args "
                            f"set none and the file defines none)")
        for n, value in own:
            if cmd and value != cmd[-1]:
                problems.append(f"{rel}:{n}: defines G_LOG_DOMAIN {value} but its target "
                                f"sets {cmd[-1]}")
            elif cmd:
                problems.append(f"{rel}:{n}: defines G_LOG_DOMAIN {value}, which its target "
                                f"sets already (meson's c_args): remove the line")
        for value in cmd[-1:] + [v for _, v in own]:
            if not re.fullmatch(r'"s4g[a-z0-9-]*"', value):
                problems.append(f"{rel}: G_LOG_DOMAIN {value} is not a string literal "
                                f"\"s4g...\"")
    if checked == 0:
        problems.append(f"{sys.argv[1]}: no app/**/*.c file among the compile commands")
    for p in problems:
        print(p, file=sys.stderr)
    print(f"{checked} app files checked, {len(problems)} problems")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
