#!/usr/bin/env bash
# sign-rpms: sign RPMs in place with a GPG key from the caller's keyring
# (GNUPGHOME), then check each with rpm -K against that key's public half.
#
#   scripts/sign-rpms.sh KEY_ID FILE.rpm...
#
# The key must have no passphrase (the prerelease workflow imports the
# RPM_SIGNING_KEY secret into a fresh keyring). The check uses a throwaway
# rpm database, so the host's rpmdb is never touched.
set -euo pipefail

[ $# -ge 2 ] || { echo "usage: $0 KEY_ID FILE.rpm..." >&2; exit 2; }
key=$1; shift
gpg=$(command -v gpg2 || command -v gpg) || { echo "sign-rpms: gpg not found" >&2; exit 1; }
command -v rpmsign >/dev/null || { echo "sign-rpms: rpmsign not found (apt-get install rpm / dnf install rpm-sign)" >&2; exit 1; }
gpg --batch --list-secret-keys "$key" >/dev/null 2>&1 || { echo "sign-rpms: no secret key $key in the keyring" >&2; exit 1; }

rpmsign --addsign \
  --define "__gpg $gpg" \
  --define "_gpg_name $key" \
  --define "_gpg_sign_cmd_extra_args --batch --pinentry-mode loopback" \
  "$@" >/dev/null

db=$(mktemp -d)
trap 'rm -rf "$db"' EXIT
gpg --batch --armor --export "$key" >"$db/key.asc"
rpm --dbpath "$db" --initdb
rpm --dbpath "$db" --import "$db/key.asc"
for f in "$@"; do
  out=$(rpm --dbpath "$db" -K "$f") || { echo "sign-rpms: $out" >&2; exit 1; }
  case "$out" in
    *"signatures OK"*) echo "$out" ;;
    *) echo "sign-rpms: $f is not signed: $out" >&2; exit 1 ;;
  esac
done
