#!/usr/bin/env bash
# test-signing: prove that scripts/sign-rpms.sh signs an RPM and rpm -K
# verifies it, with a GPG key generated here and thrown away: a copy of the
# given RPM is signed; rpm -K accepts it with the key imported, fails without
# it, and fails once a byte of the payload changes.
#
#   scripts/test-signing.sh FILE.rpm
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
src=${1:?usage: $0 FILE.rpm}

work=$(mktemp -d)
trap 'gpgconf --homedir "$work/gnupg" --kill all 2>/dev/null || true; rm -rf "$work"' EXIT
export GNUPGHOME=$work/gnupg
mkdir -m 700 "$GNUPGHOME"
fails=0
fail() { echo "FAIL $*"; fails=$((fails + 1)); }

gpg --batch --quiet --passphrase '' --quick-gen-key 'helexa test signing <signing@helexa.invalid>' rsa2048 sign 1d 2>/dev/null
fpr=$(gpg --batch --with-colons --list-secret-keys 2>/dev/null | awk -F: '$1 == "fpr" { print $10; exit }')
[ -n "$fpr" ] || { echo "test-signing: no key generated"; exit 1; }

rpmfile=$work/$(basename "$src")
cp "$src" "$rpmfile"
"$here/sign-rpms.sh" "$fpr" "$rpmfile" >"$work/sign.log" 2>&1 || { fail "sign-rpms.sh:"; cat "$work/sign.log"; }

# verify DB FILE: rpm -K against the rpm database DB.
verify() { rpm --dbpath "$1" -K "$2" 2>&1; }
withkey=$work/db-key
nokey=$work/db-empty
rpm --dbpath "$withkey" --initdb
rpm --dbpath "$nokey" --initdb
gpg --batch --armor --export "$fpr" >"$work/key.asc" 2>/dev/null
rpm --dbpath "$withkey" --import "$work/key.asc"

if out=$(verify "$withkey" "$rpmfile") && grep -q 'signatures OK' <<<"$out"; then
  echo "ok   rpm -K with the key: $out"
else
  fail "rpm -K with the key: $out"
fi
if out=$(verify "$withkey" "$src") && grep -q 'signatures OK' <<<"$out"; then
  fail "the unsigned original passes as signed: $out"
fi
if out=$(verify "$nokey" "$rpmfile"); then
  fail "rpm -K without the key succeeded: $out"
else
  grep -Eq 'NOKEY|SIGNATURES NOT OK' <<<"$out" || fail "rpm -K without the key did not blame the signature: $out"
fi
# Flip one byte near the end (inside the compressed payload).
size=$(stat -c %s "$rpmfile")
off=$((size - 100))
b=$(od -An -tu1 -j "$off" -N1 "$rpmfile" | tr -d ' ')
printf '%b' "$(printf '\\%03o' $(((b + 1) % 256)))" | dd of="$rpmfile" bs=1 seek="$off" conv=notrunc status=none
if out=$(verify "$withkey" "$rpmfile"); then
  fail "rpm -K accepted a tampered package: $out"
fi

[ "$fails" -eq 0 ]
