#!/bin/sh
# The metainfo's URLs against the repository: every screenshot <image> is
# https://raw.githubusercontent.com/hone/Hone/main/PATH with PATH a PNG file of this tree (so a
# published tree serves it), the homepage is the one the app id io.github.hone.Hone names, and
# the default screenshot is the first. Usage: test_metainfo_screenshots.sh METAINFO SOURCE_ROOT
set -eu
metainfo=$1
root=$2
prefix='https://raw.githubusercontent.com/hone/Hone/main/'
status=0
grep -q '<url type="homepage">https://github.com/hone/Hone</url>' "$metainfo" ||
  { echo "not ok: the homepage is not https://github.com/hone/Hone (the app id's)"; status=1; }
images=$(sed -n 's:.*<image>\(.*\)</image>.*:\1:p' "$metainfo")
[ -n "$images" ] || { echo "not ok: no screenshot images in $metainfo"; exit 1; }
for url in $images; do
  case $url in
    "$prefix"*) path=${url#"$prefix"} ;;
    *) echo "not ok: $url is not under $prefix"; status=1; continue ;;
  esac
  if [ ! -f "$root/$path" ]; then
    echo "not ok: $url names $path, which is not in the tree"; status=1
  elif [ "$(head -c 8 "$root/$path" | od -An -tx1 | tr -d ' \n')" != 89504e470d0a1a0a ]; then
    echo "not ok: $path is not a PNG file"; status=1
  else
    echo "ok: $path"
  fi
done
first=$(grep -n '<screenshot' "$metainfo" | grep -v '<screenshots>' | head -1)
case $first in
  *'type="default"'*) echo "ok: the first screenshot is the default" ;;
  *) echo "not ok: the first screenshot is not type=\"default\""; status=1 ;;
esac
exit $status
