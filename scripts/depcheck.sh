#!/usr/bin/env bash
# depcheck: enforce the import-direction rules of the design (DESIGN.md,
# "Packages and the direction of imports") with go list -deps, and that no
# package of the module uses cgo.
set -euo pipefail
mod=$(go list -m)
fail=0

# deps PKG: the module's own packages PKG depends on (itself excluded).
deps() { go list -deps "$mod/$1" | grep "^$mod/" | grep -vx "$mod/$1" || true; }
# thirdparty PKG: non-stdlib, non-module packages PKG depends on.
thirdparty() { go list -deps -f '{{if not .Standard}}{{.ImportPath}}{{end}}' "$mod/$1" | grep -v "^$mod" || true; }

# allow PKG ALLOWED...: PKG may depend on the listed module packages only.
allow() {
	local pkg=$1; shift
	[ -d "$pkg" ] || return 0
	ls "$pkg"/*.go >/dev/null 2>&1 || return 0
	local d
	for d in $(deps "$pkg"); do
		local rel=${d#"$mod/"} ok=0 a
		for a in "$@"; do [ "$rel" = "$a" ] && ok=1; done
		if [ $ok = 0 ]; then echo "depcheck: $pkg must not import $rel"; fail=1; fi
	done
}
# stdlibonly PKG: PKG uses the standard library (and the module's allowed packages) only.
stdlibonly() {
	local pkg=$1
	[ -d "$pkg" ] || return 0
	ls "$pkg"/*.go >/dev/null 2>&1 || return 0
	local t; t=$(thirdparty "$pkg")
	if [ -n "$t" ]; then echo "depcheck: $pkg must use the standard library only, imports: $t"; fail=1; fi
}

allow api
stdlibonly api
allow gguf
stdlibonly gguf
allow tokenizer gguf
allow chat api tokenizer gguf
allow kernels
stdlibonly kernels
allow constrain
stdlibonly constrain
allow engine gguf tokenizer chat api constrain
allow engine/cpu engine gguf tokenizer chat api constrain internal/sysmem
allow engine/cuda engine gguf tokenizer chat api kernels constrain
allow hub
allow server api
allow manager engine gguf tokenizer chat api hub server internal/sysmem constrain
allow internal/sysmem
stdlibonly internal/sysmem
allow cortex api
allow internal/service
stdlibonly internal/service
allow loadgen
stdlibonly loadgen

# No cgo anywhere in the module.
cgo=$(go list -f '{{if .CgoFiles}}{{.ImportPath}}{{end}}' ./...)
if [ -n "$cgo" ]; then echo "depcheck: cgo used in: $cgo"; fail=1; fi

[ $fail = 0 ] && echo "depcheck: ok"
exit $fail
