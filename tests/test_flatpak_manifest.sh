#!/bin/sh
# The Flatpak manifest, as far as this offline machine can check it (the GNOME runtime and the
# sources cannot be fetched, so nothing is built): flatpak-builder parses it without a warning,
# and its fields say what the desktop app needs: the app id of the desktop file and metainfo,
# `hone` as the command, the display and GPU finish-args and no blanket file access (files come
# through the portals), the non-GNOME libraries as modules pinned to a commit, Hone built with
# meson and the desktop app. Usage: test_flatpak_manifest.sh SOURCE_DIR. Exit 77 (skipped)
# without flatpak-builder (tools/install-deps.sh --tests installs it).
set -eu
root=$1
manifest=$root/flatpak/io.github.hone.Hone.json
command -v flatpak-builder >/dev/null || { echo "flatpak-builder is missing: skipped"; exit 77; }
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
flatpak-builder --show-manifest "$manifest" >"$work/parsed.json" 2>"$work/stderr"
if [ -s "$work/stderr" ]; then
  echo "not ok: flatpak-builder warns about $manifest:"; cat "$work/stderr"; exit 1
fi
echo "ok: flatpak-builder parses $manifest"
python3 - "$work/parsed.json" "$root" <<'PY'
import json, os, re, sys
m = json.load(open(sys.argv[1]))
root = sys.argv[2]
failures = []
def check(ok, what):
    print(("ok: " if ok else "not ok: ") + what)
    if not ok:
        failures.append(what)
app = m.get("id")
check(app == "io.github.hone.Hone", "the app id is io.github.hone.Hone")
check(os.path.exists(os.path.join(root, "data", app + ".desktop")), "data/ has the desktop file of that id")
check("<id>%s</id>" % app in open(os.path.join(root, "data", app + ".metainfo.xml")).read(),
      "the metainfo names that id")
check(m.get("command") == "hone", "the command is hone")
check(m.get("runtime") == "org.gnome.Platform" and m.get("sdk") == "org.gnome.Sdk", "GNOME runtime and SDK")
args = m.get("finish-args", [])
for need in ("--socket=wayland", "--socket=fallback-x11", "--share=ipc", "--device=dri", "--device=all"):
    check(need in args, "finish-args has " + need)
check(not any(a.startswith("--filesystem") for a in args), "no --filesystem: files come through the portals")
modules = m.get("modules", [])
names = [x.get("name") for x in modules]
check(names[-1:] == ["hone"], "Hone is the last module")
for lib in ("cjson", "libyaml", "openblas"):
    check(lib in names, "module " + lib)
for x in modules[:-1]:
    for src in x.get("sources", []):
        check(src.get("type") == "git" and re.fullmatch(r"[0-9a-f]{40}", src.get("commit", "")) is not None,
              "%s is pinned to a commit" % x.get("name"))
hone = modules[-1]
check(hone.get("buildsystem") == "meson" and "-Dgui=enabled" in hone.get("config-opts", []),
      "Hone builds with meson and the desktop app")
sys.exit(1 if failures else 0)
PY
