#!/bin/sh
# The translations in po/ against the sources: POTFILES lists every file of ui/ that marks
# strings (_ or N_); xgettext's template from those files has exactly the msgids of each
# LINGUAS .po (msgcmp both ways: none missing, none left over); msgfmt --check accepts each
# .po (format strings match their msgid, header complete) and --statistics finds every message
# translated (no untranslated, no fuzzy). Usage: test_po.sh SOURCE_DIR (exit 77 without gettext).
set -eu
src=$1
for tool in xgettext msgfmt msgcmp msgattrib; do
  command -v "$tool" >/dev/null || { echo "$tool is missing (gettext): skipped"; exit 77; }
done
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
status=0
cd "$src"
for file in $(grep -l -E '(^|[^A-Za-z0-9_])N?_ \(' ui/*.c); do
  grep -qx "$file" po/POTFILES && echo "ok: $file is in po/POTFILES" \
    || { echo "not ok: $file marks strings but is not in po/POTFILES"; status=1; }
done
xgettext --files-from=po/POTFILES --directory=. --from-code=UTF-8 --keyword=_ --keyword=N_ \
  --output="$work/hone.pot" 2>"$work/xgettext.err" || { cat "$work/xgettext.err"; exit 1; }
# the template's message count: msgfmt finds them all untranslated
total=$(msgfmt --statistics -o /dev/null "$work/hone.pot" 2>&1 | sed -n 's/.*, \([0-9]*\) untranslated messages*\.$/\1/p')
total=${total:-0}
echo "the sources mark $total messages"
[ "$total" -gt 100 ] || { echo "not ok: only $total messages extracted"; status=1; }
for lang in $(cat po/LINGUAS); do
  po=po/$lang.po
  # every msgid of the sources is in the .po
  if msgcmp "$po" "$work/hone.pot" >"$work/cmp" 2>&1; then
    echo "ok: $po has every message of the sources"
  else
    echo "not ok: $po lacks messages of the sources:"; cat "$work/cmp"; status=1
  fi
  # every msgid of the .po is in the sources (the template as the definitions' file)
  msgattrib --no-obsolete "$po" >"$work/$lang.active.po"
  if msgcmp --use-untranslated "$work/hone.pot" "$work/$lang.active.po" >"$work/cmp" 2>&1; then
    echo "ok: every message of $po is in the sources"
  else
    echo "not ok: $po has messages the sources no longer have:"; cat "$work/cmp"; status=1
  fi
  grep -q '^#~' "$po" && { echo "not ok: $po keeps obsolete (#~) messages"; status=1; }
  if ! msgfmt --check --statistics -o "$work/$lang.mo" "$po" 2>"$work/stats"; then
    echo "not ok: msgfmt --check refuses $po:"; cat "$work/stats"; status=1; continue
  fi
  stats=$(tail -n 1 "$work/stats")
  if [ "$stats" = "$total translated messages." ]; then
    echo "ok: $po: $stats"
  else
    echo "not ok: $po: $stats (want $total translated messages, no fuzzy or untranslated)"
    status=1
  fi
  grep -q '^"Plural-Forms: nplurals=1; plural=0;\\n"$' "$po" \
    || { echo "not ok: $po is not a one-plural-form language (ui/i18n.c keeps msgstr[0])"; status=1; }
done
exit $status
