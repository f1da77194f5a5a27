#!/usr/bin/env bash
# test-packaging: build the RPMs (cortex, the generic neuron and the blackwell
# flavour) into a throwaway folder and check them with the real tools: rpm's
# queries (files, config noreplace, ownership, provides, conflicts,
# scriptlets, version ordering), an install into a throwaway root whose
# neuron serves /health from the packaged config, systemd-analyze verify on
# both units, createrepo_c and packages.json through publish-rpms.sh, and
# signing with a throwaway GPG key (scripts/test-signing.sh). make
# test-packaging runs it; .ci/run runs that. Installs rpm, createrepo-c,
# systemd, gnupg and rsync from apt when missing.
set -euo pipefail
cd "$(dirname "$0")/.."

need=()
for t in rpmbuild:rpm createrepo_c:createrepo-c systemd-analyze:systemd gpg:gnupg rsync:rsync; do
  command -v "${t%%:*}" >/dev/null 2>&1 || need+=("${t##*:}")
done
if [ ${#need[@]} -gt 0 ]; then
  echo "test-packaging: installing ${need[*]}"
  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${need[@]}" >/dev/null
fi

work=$(mktemp -d)
pid=""
made_fatdir=""
cleanup() {
  if [ -n "$pid" ]; then kill "$pid" 2>/dev/null || true; fi
  if [ -n "$made_fatdir" ]; then rm -rf "$made_fatdir"; fi
  rm -rf "$work"
}
trap cleanup EXIT
fails=0
ok() { echo "ok   $*"; }
fail() { echo "FAIL $*"; fails=$((fails + 1)); }
# check DESC CMD...: run CMD quietly; report DESC as passed or failed.
check() { local d=$1; shift; if "$@" >/dev/null 2>&1; then ok "$d"; else fail "$d"; fi; }
# rpm on Debian warns that it is not the system's package manager.
rpmq() { rpm "$@" 2>&1 | grep -v -e 'should not be used directly' -e 'assuming you know what you are doing' || true; }

# --- flavours in Go ------------------------------------------------------------
# Each flavour's embed line against its row in kernels/flavours.go, and the
# fatbin wiring with a stand-in image (the real one needs the CUDA toolkit).
for f in ampere ada hopper blackwell; do
  check "kernels: flavour $f embeds its PTX" go test -count=1 -tags "flavour_$f" -run 'Flavour|Describe' ./kernels
done
fatdir=kernels/fatbin
if [ -e "$fatdir" ]; then
  fail "kernels: $fatdir exists; a stale fatbin would be embedded"
else
  mkdir -p "$fatdir"
  made_fatdir=$fatdir
  printf 'stand-in fatbin' >"$fatdir/kernels.fatbin"
  echo 'cubin sm_89 + PTX sm_89' >"$fatdir/archs.txt"
  check "kernels: a build with a fatbin hands it to the driver" go test -count=1 -tags 'flavour_ada kernels_fatbin' -run 'Fatbin|Flavour|Describe' ./kernels
  rm -rf "$fatdir"
  made_fatdir=""
fi

# --- build -------------------------------------------------------------------
export DIST=$work/dist
make -s rpm >"$work/build.log" 2>&1 || { cat "$work/build.log"; exit 1; }
make -s rpm-neuron GPU_FLAVOUR=blackwell >>"$work/build.log" 2>&1 || { cat "$work/build.log"; exit 1; }
version=$(scripts/rpm-version.sh)
neuron=$DIST/helexa-neuron-$version-1.$(uname -m).rpm
blackwell=$DIST/helexa-neuron-blackwell-$version-1.$(uname -m).rpm
cortex=$DIST/helexa-cortex-$version-1.$(uname -m).rpm
for f in "$neuron" "$blackwell" "$cortex"; do
  [ -f "$f" ] || { echo "test-packaging: $f was not built; in dist: $(ls "$DIST")"; exit 1; }
done
ok "built $(cd "$DIST" && echo *.rpm)"

# --- version -----------------------------------------------------------------
check "version $version has the form 0.1.YYYYMMDDgitSHORTSHA" grep -Eqx '0\.1\.[0-9]{8}git[0-9a-f]{7,}' <<<"$version"
check "packages are stamped $version" test "$(rpmq -qp --qf '%{VERSION}' "$neuron")" = "$version"
vercmp() { rpm --eval "%{lua: print(rpm.vercmp('$1', '$2'))}"; }
check "rpm sorts $version below the stable 1" test "$(vercmp "$version" 1)" = -1
check "rpm sorts $version above an older prerelease" test "$(vercmp "$version" 0.1.20250101git0000000)" = 1

# --- files, configs, ownership -------------------------------------------------
# has PKG LINE: the --qf listing of PKG has LINE exactly.
files() { rpmq -qp --qf '[%{FILENAMES} %{FILEMODES:perms} %{FILEUSERNAME}:%{FILEGROUPNAME} %{FILEFLAGS:fflags}\n]' "$1"; }
has() { files "$1" | grep -qxF -- "$2"; }
for p in "$neuron" "$blackwell"; do
  n=$(rpmq -qp --qf '%{NAME}' "$p")
  check "$n: /usr/bin/neuron" has "$p" "/usr/bin/neuron -rwxr-xr-x root:root "
  check "$n: unit in the unit dir" has "$p" "/usr/lib/systemd/system/neuron.service -rw-r--r-- root:root "
  check "$n: config noreplace, readable by neuron" has "$p" "/etc/neuron/neuron.toml -rw-r----- root:neuron cn"
  check "$n: sysusers.d file" has "$p" "/usr/lib/sysusers.d/helexa-neuron.conf -rw-r--r-- root:root "
  check "$n: hub cache owned by neuron" has "$p" "/var/cache/neuron drwxr-x--- neuron:neuron "
  check "$n: docs" has "$p" "/usr/share/doc/$n/README.md -rw-r--r-- root:root d"
  license=""
  [ -f LICENSE ] && license="/usr/share/licenses/$n/LICENSE "
  check "$n: rpm -qpl lists exactly the packaged files" test "$(rpmq -qpl "$p" | LC_ALL=C sort | tr '\n' ' ')" = "/etc/neuron /etc/neuron/neuron.toml /usr/bin/neuron /usr/lib/systemd/system/neuron.service /usr/lib/sysusers.d/helexa-neuron.conf /usr/share/doc/$n/README.md /usr/share/doc/$n/neuron.example.toml ${license}/var/cache/neuron /var/lib/neuron "
  reqs=$(rpmq -qp --requires "$p")
  # libcuda is opened at run time: a CPU-only host must be able to install.
  check "$n: requires no CUDA library" test -z "$(grep -i cuda <<<"$reqs")"
  check "$n: requires a shell for its scriptlets" grep -qx /bin/sh <<<"$reqs"
  check "$n: -qpc lists the config only" test "$(rpmq -qpc "$p")" = /etc/neuron/neuron.toml
  check "$n: provides helexa-neuron-engine" grep -qx "helexa-neuron-engine = $version-1" <<<"$(rpmq -qp --provides "$p")"
  scripts=$(rpmq -qp --scripts "$p")
  check "$n: %pre creates the user from sysusers" grep -q 'sysusers' <<<"$scripts"
  for s in postinstall preuninstall postuninstall; do
    check "$n: $s scriptlet handles neuron.service" grep -q "neuron.service" <<<"$(sed -n "/^$s scriptlet/,/scriptlet/p" <<<"$scripts")"
  done
done
check "helexa-cortex: /usr/bin/cortex" has "$cortex" "/usr/bin/cortex -rwxr-xr-x root:root "
check "helexa-cortex: config noreplace" has "$cortex" "/etc/cortex/cortex.toml -rw-r----- root:cortex cn"
check "helexa-cortex: unit in the unit dir" has "$cortex" "/usr/lib/systemd/system/cortex.service -rw-r--r-- root:root "
check "helexa-cortex: sysusers.d file" has "$cortex" "/usr/lib/sysusers.d/helexa-cortex.conf -rw-r--r-- root:root "
check "helexa-cortex: scriptlets handle cortex.service" grep -q "cortex.service" <<<"$(rpmq -qp --scripts "$cortex")"
check "helexa-cortex: provides no neuron engine" test -z "$(rpmq -qp --provides "$cortex" | grep neuron-engine)"

# --- flavours ----------------------------------------------------------------
all="helexa-neuron helexa-neuron-ampere helexa-neuron-ada helexa-neuron-hopper helexa-neuron-blackwell"
for p in "$neuron" "$blackwell"; do
  n=$(rpmq -qp --qf '%{NAME}' "$p")
  want=$(tr ' ' '\n' <<<"$all" | grep -vx "$n" | sort)
  check "$n: conflicts with every other flavour and not itself" test "$(rpmq -qp --conflicts "$p" | sort)" = "$want"
done
info=$(rpmq -qpi "$blackwell")
check "blackwell description: sm_90 PTX JIT-compiled for sm_120" grep -q 'embeds sm_90 PTX.*nearest capability' <<<"$(tr '\n' ' ' <<<"$info")"
check "blackwell description names the binary's kernels" grep -q 'Kernels embedded: flavour blackwell (sm_120); kernels: PTX sm_90' <<<"$info"
empty=$work/empty
mkdir -p "$empty"
check "rpm refuses two flavours on one host" grep -q 'conflicts with' <<<"$(rpmq -i --test --root "$empty" "$neuron" "$blackwell")"

# --- install into a throwaway root --------------------------------------------
# --noscripts: the root has no /bin/sh to run the scriptlets in (they were
# checked above); --nodeps: nor libc.
root=$work/root
mkdir -p "$root"
out=$(rpmq -i --root "$root" --nodeps --noscripts "$neuron" "$cortex")
check "rpm -i --root installs neuron and cortex" test -x "$root/usr/bin/neuron" -a -x "$root/usr/bin/cortex"
# The only complaints allowed: the neuron and cortex users are missing.
if grep -qv 'does not exist - using root' <<<"$out"; then fail "rpm -i said: $out"; fi
check "installed config is the example config" cmp "$root/etc/neuron/neuron.toml" neuron.example.toml
check "installed neuron is the generic flavour" grep -q '^flavour generic ' <<<"$("$root/usr/bin/neuron" version)"
check "installed neuron --version names $version" grep -q "^neuron $version (" <<<"$("$root/usr/bin/neuron" --version)"

# serve ROOT CONFIG LOG: start the root's neuron on a free loopback port.
home=$work/home
mkdir -p "$home"
serve() { HOME=$home "$root/usr/bin/neuron" serve --config "$1" --listen 127.0.0.1:0 >"$2" 2>&1 & pid=$!; }
serve "$root/etc/neuron/neuron.toml" "$work/serve.log"
addr=""
for _ in $(seq 100); do
  addr=$(grep -o 'addr=127\.0\.0\.1:[0-9]*' "$work/serve.log" | head -1 | cut -d= -f2 || true)
  [ -n "$addr" ] && break
  kill -0 "$pid" 2>/dev/null || break
  sleep 0.1
done
if [ -n "$addr" ] && health=$(curl -fsS "http://$addr/health"); then
  ok "packaged config loads: $root/usr/bin/neuron serve answers /health with $health"
else
  fail "neuron serve with the packaged config did not answer /health:"; cat "$work/serve.log"
fi
check "the daemon logs its cache under the throwaway HOME" grep -q "dir=$home/" "$work/serve.log"
kill -TERM "$pid" 2>/dev/null || true
check "the daemon stops on SIGTERM" wait "$pid"
pid=""
# The same start with a key the daemon does not know must fail: the config
# is really read.
{ cat "$root/etc/neuron/neuron.toml"; echo 'no_such_key = 1'; } >"$work/bad.toml"
if HOME=$home timeout 20 "$root/usr/bin/neuron" serve --config "$work/bad.toml" --listen 127.0.0.1:0 >"$work/bad.log" 2>&1; then
  fail "neuron serve accepted a config with an unknown key"
else
  check "a config with an unknown key is refused, naming it" grep -q no_such_key "$work/bad.log"
fi

# --- systemd units -------------------------------------------------------------
# verify resolves the units' dependencies (multi-user.target, ...) and checks
# ExecStart in the root, so the host's stock units are copied in beside ours.
cp -an /usr/lib/systemd/system/. "$root/usr/lib/systemd/system/"
for u in neuron.service cortex.service; do
  if v=$(systemd-analyze verify --root="$root" "$u" 2>&1) && [ -z "$v" ]; then
    ok "systemd-analyze verify $u"
  else
    fail "systemd-analyze verify $u: $v"
  fi
done

# --- repository metadata and packages.json ------------------------------------
chan=$work/repo/fedora/43/x86_64/unstable
check "publish-rpms.sh into a local channel" scripts/publish-rpms.sh "$chan" "$DIST"/*.rpm
check "createrepo_c wrote repodata" test -s "$chan/repodata/repomd.xml"
primary=$(find "$chan/repodata" -name '*primary.xml.*')
check "repodata lists the three packages" test "$(zcat -f "$primary" | grep -c '<package ')" = 3
pj=$chan/packages.json
check "packages.json lists the three packages" test "$(grep -c '"name"' "$pj")" = 3
if command -v jq >/dev/null; then
  check "packages.json is valid JSON" jq -e 'length == 3' "$pj"
  check "packages.json: flavours" test "$(jq -r '[.[].flavour] | map(tostring) | join(",")' "$pj")" = "null,generic,blackwell"
fi
sum=$(sha256sum "$neuron" | cut -d' ' -f1)
check "packages.json: sha256 and size of helexa-neuron" grep -q "\"name\": \"helexa-neuron\",.*\"size\": $(stat -c %s "$neuron"), \"sha256\": \"$sum\"" "$pj"
check "packages.json: build date" grep -Eq '"build_date": "[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9:]{8}Z"' "$pj"

# --- signing -------------------------------------------------------------------
if scripts/test-signing.sh "$cortex"; then ok "signing with a throwaway key"; else fail "signing"; fi

if [ "$fails" -gt 0 ]; then
  echo "test-packaging: $fails check(s) failed"
  exit 1
fi
echo "test-packaging: all checks passed"
