#!/bin/sh
# The desktop app in a real window under Xvfb: `hone gui` opens, every page is drawn and saved
# as a screenshot (the HONE_GUI_SCREENSHOTS hook, ui/screenshots.c) into $HONE_GUI_SCREENSHOT_DIR,
# and the app quits by itself. Checks that each picture is a PNG of the window's size.
# Exit 77 (skipped) when xvfb-run or dbus-run-session is missing (tools/install-deps.sh --tests).
set -eu
for tool in xvfb-run dbus-run-session; do
  command -v "$tool" >/dev/null || { echo "$tool is missing: skipped"; exit 77; }
done
out=${HONE_GUI_SCREENSHOT_DIR:?}
rm -rf "$out"
mkdir -p "$out"
cd "$HONE_SOURCE_DIR"  # the Train page lists data/dataset_info.json's datasets
# GSK_RENDERER=cairo: Xvfb has no GPU; NO_AT_BRIDGE: no accessibility bus in the test session.
# Settings go to a key file in a scratch config folder (GSETTINGS_SCHEMA_DIR: set by meson).
config=$(mktemp -d)
trap 'rm -rf "$config"' EXIT
HONE_GUI_SCREENSHOTS=$out GSK_RENDERER=cairo NO_AT_BRIDGE=1 GSETTINGS_BACKEND=keyfile \
  XDG_CONFIG_HOME=$config \
  timeout 120 xvfb-run -a -s "-screen 0 1280x1024x24" dbus-run-session -- "$HONE_BIN" gui
status=0
# closing the window saved its size
keyfile=$config/glib-2.0/settings/keyfile
if grep -q '^window-width=1100' "$keyfile" 2>/dev/null && grep -q '^window-height=820' "$keyfile"; then
  echo "ok: the window size was saved in $keyfile"
else
  echo "not ok: no window size in $keyfile"; cat "$keyfile" 2>/dev/null; status=1
fi
for page in train evaluate chat export train-end; do
  png=$out/$page.png
  if [ ! -s "$png" ]; then
    echo "not ok: $png was not written"; status=1; continue
  fi
  # PNG signature, then IHDR's width and height (big-endian) at bytes 16-23
  sig=$(od -An -tx1 -N8 "$png" | tr -d ' \n')
  width=$(od -An -tu1 -j16 -N4 "$png" | awk '{print $1*16777216+$2*65536+$3*256+$4}')
  height=$(od -An -tu1 -j20 -N4 "$png" | awk '{print $1*16777216+$2*65536+$3*256+$4}')
  if [ "$sig" != "89504e470d0a1a0a" ] || [ "$width" -lt 1000 ] || [ "$height" -lt 700 ]; then
    echo "not ok: $png is not a ${width}x${height} window picture (signature $sig)"; status=1
  else
    echo "ok: $png ${width}x${height}"
  fi
done
exit $status
