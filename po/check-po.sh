#!/bin/sh
# Checks that every translatable string of the sources named in POTFILES is translated in
# each catalogue of LINGUAS, that no catalogue keeps entries the sources no longer use, and
# that every file holding _("…") or translatable="yes" is in POTFILES.  Usage: check-po.sh SOURCE_ROOT
set -eu
root="$1"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
cd "$root"
for f in $(grep -rlE '_\("|translatable="yes"' app/studio data 2>/dev/null | grep -vE '\.(po|pot)$'); do
  grep -qx "$f" po/POTFILES || { echo "check-po: $f has translatable strings but is not in po/POTFILES"; exit 1; }
done
xgettext --from-code=UTF-8 --keyword=_ --keyword=N_ --keyword=C_:1c,2 --files-from=po/POTFILES \
  -o "$tmp/s4g.pot" --package-name=s4g-studio
for lang in $(cat po/LINGUAS); do
  msgmerge -q --no-fuzzy-matching "po/$lang.po" "$tmp/s4g.pot" -o "$tmp/$lang.po"
  missing=$(msgattrib --untranslated --no-obsolete "$tmp/$lang.po" | grep -c '^msgid ' || true)
  # msgattrib prints the header entry (msgid "") whenever anything is untranslated
  if [ "$missing" -gt 0 ]; then
    echo "check-po: po/$lang.po lacks translations:"
    msgattrib --untranslated --no-obsolete "$tmp/$lang.po" | grep '^msgid ' | grep -v '^msgid ""$'
    exit 1
  fi
  # entries no source uses any more (msgmerge marks them obsolete): a catalogue holds only
  # what the program can show
  unused=$(msgattrib --only-obsolete "$tmp/$lang.po" | grep -c '^#~ msgid ' || true)
  if [ "$unused" -gt 0 ]; then
    echo "check-po: po/$lang.po has $unused entries no source uses (remove them):"
    msgattrib --only-obsolete "$tmp/$lang.po" | grep '^#~ msgid '
    exit 1
  fi
  msgfmt -c -o /dev/null "po/$lang.po"
done
echo "check-po: all catalogues complete"
