#!/usr/bin/env bash
# build-rpm: package a binary that make built into an RPM in dist/ with
# rpmbuild (Debian's rpm package is enough; no Go build happens inside
# rpmbuild).
#
#   scripts/build-rpm.sh cortex BINARY
#   scripts/build-rpm.sh neuron FLAVOUR BINARY   (FLAVOUR: generic ampere ada hopper blackwell)
#
# Environment: VERSION_STAMP (default: scripts/rpm-version.sh), DIST (output
# folder, default dist), RPM_ARCH (default: uname -m), RPM_LICENSE (the
# License tag; the repository has no licence file yet, see below).
set -euo pipefail
cd "$(dirname "$0")/.."

usage() { echo "usage: $0 cortex BINARY | neuron FLAVOUR BINARY" >&2; exit 2; }
[ $# -ge 2 ] || usage
component=$1
case "$component" in
  cortex) [ $# -eq 2 ] || usage; flavour=""; bin=$2 ;;
  neuron) [ $# -eq 3 ] || usage; flavour=$2; bin=$3
    case "$flavour" in generic | ampere | ada | hopper | blackwell) ;;
      *) echo "build-rpm: unknown flavour $flavour" >&2; exit 2 ;; esac ;;
  *) usage ;;
esac
[ -x "$bin" ] || { echo "build-rpm: $bin is not an executable (run make first)" >&2; exit 1; }
command -v rpmbuild >/dev/null || { echo "build-rpm: rpmbuild not found (apt-get install rpm / dnf install rpm-build)" >&2; exit 1; }

version=${VERSION_STAMP:-$(scripts/rpm-version.sh)}
dist=${DIST:-dist}
arch=${RPM_ARCH:-$(uname -m)}
mkdir -p "$dist"
dist=$(cd "$dist" && pwd)

top=$(mktemp -d)
trap 'rm -rf "$top"' EXIT
mkdir -p "$top/SOURCES"
cp "$bin" "$top/SOURCES/$component"
cp "data/$component.service" "data/$component.sysusers" "$component.example.toml" README.md rpm/helexa.inc "$top/SOURCES/"

defs=(--define "_topdir $top" --define "_rpmdir $dist"
  --define "_build_name_fmt %%{NAME}-%%{VERSION}-%%{RELEASE}.%%{ARCH}.rpm"
  --define "version_stamp $version"
  --define "helexa_license ${RPM_LICENSE:-Apache-2.0}")
if [ -f LICENSE ]; then
  cp LICENSE "$top/SOURCES/"
  defs+=(--define "helexa_license_file 1")
fi
if [ "$component" = neuron ]; then
  # The description names the kernels the binary embeds, as the binary says.
  kernels=$("$bin" version 2>/dev/null | sed -n 2p || true)
  case "$kernels" in
    "flavour $flavour "*) ;;
    "") echo "build-rpm: cannot run $bin here; the description will not name its kernels" >&2 ;;
    *) echo "build-rpm: $bin is not the $flavour flavour: $kernels" >&2; exit 1 ;;
  esac
  defs+=(--define "flavour $flavour" --define "kernels_line ${kernels:-see neuron --version}")
fi

rpmbuild -bb --quiet --target "$arch" "${defs[@]}" "rpm/helexa-$component.spec"
