#!/usr/bin/env bash
# llamacpp-check: checks that the models `neuron synth` writes load in
# llama.cpp and in @huggingface/gguf, and that neuron computes what llama.cpp
# computes on them. Not part of `make test` or CI: it downloads ~750 MB of
# npm packages (node-llama-cpp 3.21.1 with its prebuilt llama.cpp binaries)
# and takes a few minutes on two cores. Run it from anywhere, with Node 20+
# and npm:
#
#   bash scripts/llamacpp-check/run.sh            # tiny models + control
#   bash scripts/llamacpp-check/run.sh --0.6b     # also 0.6b q8_0 and q4_k_m
#
# Steps:
#   1. npm ci (skipped when node_modules matches package-lock.json);
#   2. bin/neuron is rebuilt from the tree (go build ./cmd/neuron);
#   3. control: when ../shared/reference (beside the repository) exists,
#      llama.cpp runs the reference mini models and must reproduce
#      reference/expected/*.json, which shows the harness itself measures
#      the right thing;
#   4. `neuron synth --preset tiny` for every type (and with --0.6b the 0.6b
#      q8_0 and q4_k_m files) into models/, then compare.mjs compares
#      llama.cpp with `neuron run --json`, `neuron logits` and
#      `neuron tokenize` on three fixed prompts;
#   5. embeddings.mjs compares POST /v1/embeddings with llama.cpp's
#      embeddings of the same token ids (cosine) on those models.
# Each step prints a table: model, parsed by @huggingface/gguf, loaded by
# llama.cpp, tokenizer agreement, tolerance (from the file type, as
# reference/README.md gives them), greedy agreement up to the first near-tie
# (and the identical prefix), max |Δlogit| as log-softmax (and its rms).
# The exit status is non-zero when any row fails. Tables and per-step JSON
# also go to out/.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
root="$(cd "$here/../.." && pwd)"
cd "$here"

big=0
for a in "$@"; do
	case "$a" in
	--0.6b) big=1 ;;
	*) echo "usage: $0 [--0.6b]" >&2; exit 2 ;;
	esac
done

# node_modules/.lock-stamp is a copy of the lockfile npm ci installed.
if ! cmp -s package-lock.json node_modules/.lock-stamp 2>/dev/null; then
	# --ignore-scripts: the prebuilt binaries need no postinstall step.
	npm ci --ignore-scripts --no-audit --no-fund
	cp package-lock.json node_modules/.lock-stamp
fi

# The check is of the current tree: rebuild bin/neuron (incremental), and
# fall back to an existing binary only when the tree does not build.
neuron="$root/bin/neuron"
if ! (cd "$root" && CGO_ENABLED=0 go build -o bin/neuron ./cmd/neuron); then
	[ -x "$neuron" ] || exit 1
	echo "warning: go build failed; using the existing $neuron" >&2
fi

mkdir -p models out
status=0

ref="$root/../shared/reference"
if [ -d "$ref/models" ] && [ -d "$ref/expected" ]; then
	echo "== control: reference mini models against $ref/expected"
	node compare.mjs --expected "$ref/expected" --json out/control.json "$ref"/models/*.gguf | tee out/control.txt || status=1
else
	echo "== control skipped: $ref not found"
fi

files=()
for t in f32 f16 bf16 q8_0 q4_0 q2_k q3_k_m q4_k_m q5_k_m q6_k; do
	f="models/synth-tiny-$t.gguf"
	"$neuron" synth --preset tiny --type "$t" -o "$f" >/dev/null
	files+=("$f")
done
if [ "$big" = 1 ]; then
	for t in q8_0 q4_k_m; do
		f="models/synth-0.6b-$t.gguf"
		"$neuron" synth --preset 0.6b --type "$t" -o "$f" >/dev/null
		files+=("$f")
	done
fi
echo "== neuron synth models: llama.cpp against $neuron"
node compare.mjs --neuron "$neuron" --gen 16 --json out/synth.json "${files[@]}" | tee out/synth.txt || status=1

# Embeddings (POST /v1/embeddings against node-llama-cpp's embedding
# context): the synthetic models and, when present, the reference minis.
emb=("${files[@]}")
[ -d "$ref/models" ] && emb+=("$ref"/models/mini-f32.gguf "$ref"/models/mini-q8_0.gguf)
echo "== embeddings: neuron against llama.cpp (cosine per input)"
node embeddings.mjs --neuron "$neuron" --json out/embeddings.json "${emb[@]}" | tee out/embeddings.txt || status=1
exit $status
