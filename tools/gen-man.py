#!/usr/bin/env python3
"""Writes s4g.1 from data/man/s4g.1.in, replacing @COMMANDS@ with one section per command
made from the real `s4g --help` and `s4g COMMAND --help` output, so the page cannot drift
from the program.   usage: gen-man.py S4G TEMPLATE OUTPUT"""
import re, subprocess, sys

exe, template, output = sys.argv[1:4]

def run(*args):
    return subprocess.run([exe, *args], check=True, capture_output=True, text=True).stdout

def esc(text):
    text = text.replace("\\", "\\\\").replace("-", "\\-").replace("…", "...")
    text = "".join(c if ord(c) < 128 else "\\[u%04X]" % ord(c) for c in text)
    return "\\&" + text if text.startswith((".", "'")) else text

def options(text, title):
    """The Application Options of one --help as .TP items (under a subheading for a
    subcommand)."""
    if title:
        usage = re.search(r"^Usage:\n\s+\S+ (.*)$", text, re.M)
        params = usage.group(1).replace("[OPTION…]", "").strip() if usage else ""
        desc = re.search(r"^s4g %s — (.*?)\n\n" % title, text, re.M | re.S)
        out.append('.TP\n.B "s4g %s%s"\n%s.' % (title, (" " + esc(params)) if params else "",
                   esc(" ".join(desc.group(1).split())) if desc else ""))
        out.append(".RS")
    opts = text.split("Application Options:", 1)
    if len(opts) == 2:
        for m in re.finditer(r"^  (-\w, )?(--[\w-]+)(=\S+)?\s+(.*)$", opts[1], re.M):
            short, long_, arg, help_ = m.groups()
            flag = ""
            if short:
                flag += "\\fB%s\\fR, " % esc(short[:-2])
            flag += "\\fB%s\\fR" % esc(long_)
            if arg:
                flag += "=\\fI%s\\fR" % esc(arg[1:])
            out.append(".TP\n" + flag + "\n" + esc(help_.strip()))
    if title:
        out.append(".RE")


top = run("--help")
commands = re.findall(r"^  (\w+)\s{2,}(.+)$", top.split("Commands:", 1)[1], re.M)
out = []
for name, summary in commands:
    text = run(name, "--help")
    usage = re.search(r"^Usage:\n\s+\S+ (.*)$", text, re.M)
    params = usage.group(1).replace("[OPTION…]", "").strip() if usage else ""
    out.append('.SS "s4g %s%s"' % (name, (" " + esc(params)) if params else ""))
    desc = re.search(r"^s4g %s — (.*?)\n\n" % name, text, re.M | re.S)
    out.append(esc(" ".join((desc.group(1) if desc else summary).split())) + ".")
    # further paragraphs of the summary (train's recipes), verbatim
    more = re.search(r"^s4g %s — .*?\n\n(.*?)\n\n(Help Options|Application Options|Run )"
                     % name, text, re.M | re.S)
    if more and not more.group(1).startswith(("Help Options", "Application Options")):
        out.append(".PP\n.nf\n" + "\n".join(esc(l) for l in more.group(1).split("\n")) + "\n.fi")
    # subcommands (s4g model): each documented from its own --help
    subs = re.findall(r"^  (\w+) [^\n]*?\s{2,}(.+)$", text.split("Subcommands:", 1)[1], re.M) \
        if "Subcommands:" in text else []
    for sub, _ in subs:
        options(run(name, sub, "--help"), "%s %s" % (name, sub))
    if not subs:
        options(text, None)
page = open(template).read().replace("@COMMANDS@", "\n".join(out))
open(output, "w").write(page)
