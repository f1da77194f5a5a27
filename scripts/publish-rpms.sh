#!/usr/bin/env bash
# publish-rpms: add RPMs to a repository channel and refresh its metadata.
#
#   scripts/publish-rpms.sh DEST FILE.rpm...
#
# DEST is the channel folder, local or remote for rsync (for the prerelease
# channel: host:/srv/repo/fedora/43/x86_64/unstable). The channel is mirrored
# into a staging folder, the new RPMs are added, createrepo_c --update
# refreshes repodata/ and scripts/packages-json.sh regenerates packages.json;
# then the RPMs go up first and the metadata last, so a client never sees
# metadata naming a file not yet there. RSYNC_RSH (e.g. "ssh -i key") reaches
# a remote host.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)

[ $# -ge 2 ] || { echo "usage: $0 DEST FILE.rpm..." >&2; exit 2; }
dest=${1%/}; shift
for t in rsync createrepo_c rpm; do
  command -v "$t" >/dev/null || { echo "publish-rpms: $t not found" >&2; exit 1; }
done

stage=$(mktemp -d)
trap 'rm -rf "$stage"' EXIT
# A channel that cannot be read is an error, not an empty channel: new
# metadata built without its packages would drop them from the repository.
# A remote channel is created by hand once (mkdir on the host).
case "$dest" in
  *:*) ;;
  *) mkdir -p "$dest" ;;
esac
rsync -a "$dest/" "$stage/"
cp -p "$@" "$stage/"
createrepo_c --quiet --update "$stage"
"$here/packages-json.sh" "$stage" >"$stage/packages.json.new"
mv "$stage/packages.json.new" "$stage/packages.json"

rsync -a --include='*.rpm' --exclude='*' "$stage/" "$dest/"
rsync -a --delete-after "$stage/repodata/" "$dest/repodata/"
rsync -a "$stage/packages.json" "$dest/packages.json"
echo "publish-rpms: $# package(s) to $dest ($(grep -c '"name"' "$stage/packages.json") in the channel)"
