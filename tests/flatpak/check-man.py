#!/usr/bin/env python3
"""Validates the man pages without man(1): groff parses them with every warning enabled and
prints none; s4g.1 has a section (.SS "s4g CMD") for every command `s4g --help` lists and
none for a command that does not exist, and each command's section names every long option
its `s4g CMD --help` prints; s4g-studio.1 names every option of `s4g-studio --help-all`.

usage: check-man.py GROFF S4G S4G_1 [S4G_STUDIO S4G_STUDIO_1]
"""
import os, re, subprocess, sys


def fail(msg):
    print("check-man: " + msg, file=sys.stderr)
    sys.exit(1)


def run(argv):
    r = subprocess.run(argv, capture_output=True, text=True, timeout=60,
                       env={**os.environ, "LC_ALL": "C.UTF-8"})
    if r.returncode != 0:
        fail(f"{' '.join(argv)} exited {r.returncode}: {r.stderr.strip()}")
    return r.stdout


def commands_of(help_text):
    """Command names listed under "Commands:" in `s4g --help`."""
    m = re.search(r"^Commands:\n((?:  \S.*\n)+)", help_text, re.M)
    if not m:
        fail("s4g --help has no \"Commands:\" list")
    return [line.split()[0] for line in m.group(1).splitlines()]


def long_options(help_text):
    return sorted(set(re.findall(r"^\s+(?:-\w, )?--([a-z][a-z0-9-]*)", help_text, re.M)))


def plain(troff):
    """The man source with troff's escaped hyphens made plain, for option look-ups."""
    return troff.replace("\\-", "-")


def sections(troff):
    """{command: text of its .SS "s4g COMMAND ..." section} of s4g.1."""
    out = {}
    parts = re.split(r'^(\.S[SH] .*)$', troff, flags=re.M)
    for head, body in zip(parts[1::2], parts[2::2]):
        m = re.match(r'\.SS "?s4g (\w+)', head)
        if m:
            if m.group(1) in out:
                fail(f"s4g.1: two sections for {m.group(1)}")
            out[m.group(1)] = body
    return out


def s4g_problems(troff, s4g):
    cmds = commands_of(run([s4g, "--help"]))
    if len(cmds) < 2:
        fail(f"s4g --help lists only {cmds}")
    secs = sections(troff)
    problems = []
    for c in cmds:
        if c not in secs:
            problems.append(f"command {c!r} (from s4g --help) has no .SS \"s4g {c}\" section")
            continue
        body = plain(secs[c])
        for opt in long_options(run([s4g, c, "--help"])):
            if opt != "help" and f"--{opt}" not in body:
                problems.append(f"section s4g {c}: option --{opt} (from s4g {c} --help) "
                                "is not documented")
    for c in secs:
        if c not in cmds:
            problems.append(f"section s4g {c} documents a command s4g --help does not list")
    return problems, cmds


def groff_check(groff, page):
    if not groff:
        fail("no groff given: install groff-base (tools/install-deps does)")
    r = subprocess.run([groff, "-man", "-Tutf8", "-ww", "-z", page], capture_output=True,
                       text=True, timeout=60)
    if r.returncode != 0 or r.stderr.strip():
        fail(f"{page}: groff -man -Tutf8 -ww -z exited {r.returncode}:\n{r.stderr}")


args = sys.argv[1:]
if len(args) not in (3, 5):
    fail(__doc__)
groff, s4g, s4g_man = args[:3]

groff_check(groff, s4g_man)
text = open(s4g_man, encoding="utf-8").read()
if not re.search(r"^\.TH S4G 1 ", text, re.M):
    fail(f"{s4g_man}: no .TH S4G 1 header")
# A release bumps the version in meson.build; the pages' footers must follow it.
version = run([s4g, "--version"]).split()[-1]
for page in [s4g_man] + args[4:5]:
    th = re.search(r'^\.TH .*"Sample4Geo Studio ([^"]+)"', open(page, encoding="utf-8").read(), re.M)
    if not th or th.group(1) != version:
        fail(f"{page}: .TH names version {th.group(1) if th else None!r}, s4g is {version}")
problems, cmds = s4g_problems(text, s4g)
if problems:
    fail(f"{s4g_man}:\n  " + "\n  ".join(problems))

# The check must notice a missing section: drop the last command's and expect a complaint.
last = cmds[-1]
cut = re.sub(r'^\.SS "?s4g ' + last + r'\b.*?(?=^\.S[SH] )', "", text, flags=re.M | re.S)
if cut == text or not any(f"'{last}'" in p for p in s4g_problems(cut, s4g)[0]):
    fail(f"self-check: removing the section of {last} went unnoticed")

n_studio = 0
if len(args) == 5:
    studio, studio_man = args[3:]
    groff_check(groff, studio_man)
    stext = plain(open(studio_man, encoding="utf-8").read())
    if not re.search(r"^\.TH S4G-STUDIO 1 ", stext, re.M):
        fail(f"{studio_man}: no .TH S4G\\-STUDIO 1 header")
    opts = long_options(run([studio, "--help-all"]))
    if "help" not in opts:
        fail("s4g-studio --help-all printed no options")
    for opt in opts:
        if f"--{opt}" not in stext:
            fail(f"{studio_man}: option --{opt} (from s4g-studio --help-all) is not documented")
    n_studio = len(opts)

print(f"check-man: OK ({len(cmds)} commands in s4g.1"
      + (f", {n_studio} options in s4g-studio.1" if n_studio else "") + ")")
