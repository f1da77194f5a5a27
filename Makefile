# helexa build. `make test` is what CI runs; `make run` builds and starts the
# daemon with the example configuration.

GO      ?= go
BIN     := bin
VERSION ?= $(shell git describe --tags --always --dirty 2>/dev/null || echo dev)
LDFLAGS := -s -w -X main.version=$(VERSION)
MODEL   ?= Qwen/Qwen3-0.6B-GGUF:Q8_0
CONFIG  ?= neuron.example.toml

export CGO_ENABLED := 0

.PHONY: all build test vet fmtcheck depcheck run bench kernels kernels-check fuzz clean

all: build

build:
	@mkdir -p $(BIN)
	$(GO) build -trimpath -ldflags '$(LDFLAGS)' -o $(BIN)/neuron ./cmd/neuron
	$(GO) build -trimpath -ldflags '$(LDFLAGS)' -o $(BIN)/cortex ./cmd/cortex

fmtcheck:
	@out=$$(gofmt -l $$(git ls-files '*.go' 2>/dev/null || find . -name '*.go')); \
	if [ -n "$$out" ]; then echo "gofmt needed:"; echo "$$out"; exit 1; fi

vet:
	$(GO) vet ./...
	$(GO) vet -tags cuda ./...

depcheck:
	./scripts/depcheck.sh

test: fmtcheck vet depcheck
	$(GO) test -count=1 ./...

run: build
	$(BIN)/neuron serve --config $(CONFIG) --model '$(MODEL)'

bench:
	$(GO) test -run '^$$' -bench . -benchmem ./...

# kernels compiles kernels/*.cu to PTX, one file per compute capability.
kernels:
	./scripts/build-kernels.sh

# kernels-check rebuilds the PTX and fails if the committed files differ.
kernels-check: kernels
	git diff --exit-code -- kernels/ptx

clean:
	rm -rf $(BIN)

# test-deploy tests the Helm chart in deploy/ (its own module, so the
# daemon's dependencies stay as they are): renders it for each values file,
# decodes every object strictly and checks probes, grace periods and
# selectors; fails when the committed manifests in deploy/k8s are stale.
.PHONY: test-deploy manifests
test-deploy:
	cd deploy && $(GO) vet ./... && $(GO) test -count=1 ./...

# manifests rewrites deploy/k8s from the chart.
manifests:
	cd deploy && $(GO) test -count=1 -run '^TestManifestsUpToDate$$' ./chart -update
