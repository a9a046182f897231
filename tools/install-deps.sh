#!/usr/bin/env bash
# Installs the Debian 12 packages Hone builds and tests with (skips apt when all are there).
# Usage: tools/install-deps.sh [--tests]   (--tests adds what only the test suite needs)
set -euo pipefail
packages=(gcc meson ninja-build pkg-config libglib2.0-dev libgtk-4-dev libadwaita-1-dev
          libcairo2-dev libcjson-dev libyaml-dev libopenblas-openmp-dev python3 python3-pip
          gettext)  # msgfmt: the desktop app's translations (po/)
if [ "${1:-}" = "--tests" ]; then
  packages+=(python3-venv clang libclang-rt-14-dev libc-bin desktop-file-utils
            xvfb xauth dbus-daemon  # xvfb-run + dbus-run-session: the GUI smoke test
            appstream flatpak-builder  # the metainfo and Flatpak manifest checks
            fonts-noto-cjk)  # Chinese glyphs in the GUI screenshots
fi
missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -eq 0 ]; then
  exit 0
fi
echo "installing Debian packages: ${missing[*]}"
sudo=""
if [ "$(id -u)" -ne 0 ]; then
  command -v sudo >/dev/null || { echo "error: need root or sudo to install ${missing[*]}" >&2; exit 1; }
  sudo=sudo
fi
$sudo apt-get update -qq
DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
