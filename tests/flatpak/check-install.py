#!/usr/bin/env python3
"""Installs the build into a fresh DESTDIR and checks that it holds exactly the files the
Flatpak manifest (and a distribution package) expects: the two programs, the desktop file,
the AppStream metainfo, the hicolor icons, the GSettings schema, one .mo per language of
po/LINGUAS and the two man pages — nothing missing and nothing else (no headers, static
libraries, test programs, compiled schema caches).  Then cross-checks the installed files:
desktop Exec= is the manifest's "command", Icon= names an installed icon, the metainfo's
<launchable> names the installed desktop file, and the installed s4g runs.

usage: check-install.py MESON BUILDDIR SRCDIR PREFIX BINDIR DATADIR LOCALEDIR MANDIR VERSION STUDIO
  (BINDIR… as meson's get_option() gives them, relative to PREFIX or absolute;
   STUDIO is "true" when s4g-studio and its data are built)
"""
import configparser, fnmatch, json, os, subprocess, sys, tempfile
import xml.etree.ElementTree as ET

APP_ID = "org.sample4geo.Studio"
GETTEXT_PACKAGE = "s4g-studio"


def fail(msg):
    print("check-install: " + msg, file=sys.stderr)
    sys.exit(1)


if len(sys.argv) != 11:
    fail(__doc__)
meson, builddir, srcdir, prefix, bindir, datadir, localedir, mandir, version, studio = sys.argv[1:]
studio = studio == "true"


def under_prefix(d):
    """A path relative to the prefix, as the installed tree lays it out."""
    p = d if os.path.isabs(d) else os.path.join(prefix, d)
    p = os.path.normpath(p)
    if not (p + "/").startswith(os.path.normpath(prefix) + "/"):
        fail(f"{d} lies outside the prefix {prefix}; this check assumes it does not")
    return os.path.relpath(p, prefix)


bindir, datadir, localedir, mandir = map(under_prefix, (bindir, datadir, localedir, mandir))

manifest_path = os.path.join(srcdir, "flatpak", APP_ID + ".json")
try:
    manifest = json.load(open(manifest_path))
except (OSError, ValueError) as e:
    fail(f"{manifest_path}: {e}")

linguas_path = os.path.join(srcdir, "po", "LINGUAS")
linguas = []
for n, line in enumerate(open(linguas_path), 1):
    line = line.split("#")[0].strip()
    linguas += line.split()
if studio and not linguas:
    fail(f"{linguas_path}: no languages listed")

expected = {os.path.join(bindir, "s4g"), os.path.join(mandir, "man1", "s4g.1")}
if studio:
    expected |= {
        os.path.join(bindir, "s4g-studio"),
        os.path.join(mandir, "man1", "s4g-studio.1"),
        os.path.join(datadir, "applications", APP_ID + ".desktop"),
        os.path.join(datadir, "metainfo", APP_ID + ".metainfo.xml"),
        os.path.join(datadir, "icons", "hicolor", "scalable", "apps", APP_ID + ".svg"),
        os.path.join(datadir, "icons", "hicolor", "symbolic", "apps", APP_ID + "-symbolic.svg"),
        os.path.join(datadir, "glib-2.0", "schemas", APP_ID + ".gschema.xml"),
    }
    expected |= {os.path.join(localedir, lang, "LC_MESSAGES", GETTEXT_PACKAGE + ".mo")
                 for lang in linguas}

with tempfile.TemporaryDirectory(prefix="s4g-install-") as destdir:
    r = subprocess.run([meson, "install", "-C", builddir, "--destdir", destdir,
                        "--no-rebuild", "--quiet"], capture_output=True, text=True)
    if r.returncode != 0:
        fail(f"meson install exited {r.returncode}:\n{r.stdout}{r.stderr}")
    root = destdir + os.path.normpath(prefix)  # meson joins DESTDIR and an absolute prefix so

    found = set()
    outside = []
    for dirpath, dirnames, filenames in os.walk(destdir):
        for f in filenames:
            full = os.path.join(dirpath, f)
            if not (full + "/").startswith(root + "/"):
                outside.append(os.path.relpath(full, destdir))
                continue
            found.add(os.path.relpath(full, root))
    if outside:
        fail("installed outside the prefix: " + ", ".join(sorted(outside)))
    missing = sorted(expected - found)
    extra = sorted(found - expected)
    if missing or extra:
        fail(f"installed tree under {prefix} differs from the expected one:\n"
             + "".join(f"  missing:    {m}\n" for m in missing)
             + "".join(f"  unexpected: {e}\n" for e in extra))

    def installed(rel):
        return os.path.join(root, rel)

    for prog in ("s4g", "s4g-studio") if studio else ("s4g",):
        path = installed(os.path.join(bindir, prog))
        if not os.access(path, os.X_OK):
            fail(f"{path} is not executable")
        with open(path, "rb") as fh:
            if fh.read(4) != b"\x7fELF":
                fail(f"{path} is not an ELF executable")
    for lang in linguas if studio else ():
        mo = installed(os.path.join(localedir, lang, "LC_MESSAGES", GETTEXT_PACKAGE + ".mo"))
        with open(mo, "rb") as fh:
            magic = fh.read(4)
        if magic not in (b"\xde\x12\x04\x95", b"\x95\x04\x12\xde"):
            fail(f"{mo} is not a GNU gettext catalogue (magic {magic.hex()})")

    # The installed s4g runs on its own (every project library is linked statically).
    s4g = installed(os.path.join(bindir, "s4g"))
    r = subprocess.run([s4g, "--version"], capture_output=True, text=True, timeout=30)
    if r.returncode != 0 or r.stdout.strip() != f"s4g {version}":
        fail(f"{s4g} --version: exit {r.returncode}, printed {r.stdout!r} {r.stderr!r}, "
             f"expected 's4g {version}'")

    if studio:
        desktop_path = installed(os.path.join(datadir, "applications", APP_ID + ".desktop"))
        cp = configparser.ConfigParser(interpolation=None, strict=False)
        cp.optionxform = str
        cp.read(desktop_path, encoding="utf-8")
        if "Desktop Entry" not in cp:
            fail(f"{desktop_path}: no [Desktop Entry] group")
        entry = cp["Desktop Entry"]
        exec_line = entry.get("Exec", "").split()
        if not exec_line:
            fail(f"{desktop_path}: no Exec= key")
        if exec_line[0] != manifest["command"]:
            fail(f"{desktop_path}: Exec= runs {exec_line[0]!r}, the manifest's command is "
                 f"{manifest['command']!r}")
        if not os.path.exists(installed(os.path.join(bindir, exec_line[0]))):
            fail(f"{desktop_path}: Exec= program {exec_line[0]} is not installed in {bindir}")
        icon = entry.get("Icon", "")
        icons = [p for p in found if p.startswith(os.path.join(datadir, "icons", "hicolor") + "/")
                 and os.path.splitext(os.path.basename(p))[0] == icon]
        if not icon or not icons:
            fail(f"{desktop_path}: Icon={icon!r} names no installed hicolor icon")
        if icon != manifest["id"]:
            fail(f"{desktop_path}: Icon={icon!r}; Flatpak exports only icons named after the "
                 f"app id {manifest['id']!r}")

        metainfo_path = installed(os.path.join(datadir, "metainfo", APP_ID + ".metainfo.xml"))
        try:
            comp = ET.parse(metainfo_path).getroot()
        except ET.ParseError as e:
            fail(f"{metainfo_path}: {e}")
        if comp.findtext("id") != manifest["id"]:
            fail(f"{metainfo_path}: <id> is {comp.findtext('id')!r}, the app id is {manifest['id']!r}")
        launch = comp.findall("launchable")
        desktop_ids = [l.text for l in launch if l.get("type") == "desktop-id"]
        if desktop_ids != [os.path.basename(desktop_path)]:
            fail(f"{metainfo_path}: <launchable type=\"desktop-id\"> names {desktop_ids}, the "
                 f"installed desktop file is {os.path.basename(desktop_path)}")
        provides = comp.find("provides")
        if provides is not None:
            for b in provides.findall("binary"):
                if not os.path.exists(installed(os.path.join(bindir, b.text or ""))):
                    fail(f"{metainfo_path}: <provides><binary>{b.text}</binary> is not installed")

    # The manifest's "cleanup" must not delete what the app needs at run time (man pages are
    # dropped on purpose: nothing in a Flatpak sandbox reads them).  flatpak-builder reads a
    # pattern starting with "/" as a path under the prefix (a folder takes all below it) and
    # any other pattern as a glob on the file name.
    def cleaned(rel):
        for pat in manifest.get("cleanup", []) + next(
                (m.get("cleanup", []) for m in manifest["modules"]
                 if m.get("name") == "sample4geo-studio"), []):
            if pat.startswith("/"):
                p = pat.lstrip("/")
                if fnmatch.fnmatch(rel, p) or rel.startswith(p.rstrip("/") + "/"):
                    return pat
            elif fnmatch.fnmatch(os.path.basename(rel), pat):
                return pat
        return None

    for rel in sorted(expected):
        pat = cleaned(rel)
        if pat and not rel.startswith(mandir + "/"):
            fail(f"the manifest's cleanup pattern {pat!r} deletes {rel}, which the app needs")

print(f"check-install: OK ({len(expected)} files under {prefix})")
