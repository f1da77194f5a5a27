#!/usr/bin/env bash
# rpm-version: print the prerelease version stamp of the checked-out commit,
# 0.1.YYYYMMDDgitSHORTSHA (the commit date in UTC and the short sha), which
# rpm sorts below the eventual stable release 1. make rpm and the prerelease
# workflow take their version from here.
set -euo pipefail
cd "$(dirname "$0")/.."
date=$(TZ=UTC git log -1 --format=%cd --date=format-local:%Y%m%d)
sha=$(git rev-parse --short=7 HEAD)
echo "0.1.${date}git${sha}"
