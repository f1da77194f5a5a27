#!/usr/bin/env bash
# packages-json: print the packages.json index of a repository folder for its
# web UI: one object per RPM with name, version, release, arch, flavour
# (neuron packages: generic or the GPU generation; null otherwise), size in
# bytes, sha256 and build date (UTC, RFC 3339), sorted by file name.
#
#   scripts/packages-json.sh DIR > DIR/packages.json
set -euo pipefail

dir=${1:?usage: $0 DIR}
[ -d "$dir" ] || { echo "packages-json: $dir is not a folder" >&2; exit 1; }

# str S: S as a JSON string (RPM names, versions and arches are printable
# ASCII; backslashes and quotes are escaped all the same).
str() { local s=${1//\\/\\\\}; printf '"%s"' "${s//\"/\\\"}"; }

echo "["
sep=""
while IFS= read -r -d '' f; do
  IFS=$'\t' read -r name version release arch buildtime < <(
    rpm -qp --nosignature --qf '%{NAME}\t%{VERSION}\t%{RELEASE}\t%{ARCH}\t%{BUILDTIME}\n' "$f")
  case "$name" in
    helexa-neuron) flavour='"generic"' ;;
    helexa-neuron-*) flavour=$(str "${name#helexa-neuron-}") ;;
    *) flavour=null ;;
  esac
  size=$(stat -c %s "$f")
  sha=$(sha256sum "$f" | cut -d' ' -f1)
  built=$(date -u -d "@$buildtime" +%Y-%m-%dT%H:%M:%SZ)
  printf '%s  {"name": %s, "version": %s, "release": %s, "arch": %s, "flavour": %s, "size": %s, "sha256": "%s", "build_date": "%s", "file": %s}' \
    "$sep" "$(str "$name")" "$(str "$version")" "$(str "$release")" "$(str "$arch")" "$flavour" "$size" "$sha" "$built" "$(str "${f#"$dir"/}")"
  sep=$',\n'
done < <(find "$dir" -name '*.rpm' -type f -print0 | LC_ALL=C sort -z)
printf '\n]\n'
