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

# Packaging: neuron per GPU flavour, RPMs in dist/, checks (rpm/, data/,
# scripts/build-rpm.sh; README "Installing from the RPM repository").
# GPU_FLAVOUR picks the kernels a neuron build embeds (kernels/flavours.go):
# generic (every capability), ampere, ada, hopper or blackwell. With the CUDA
# toolkit's ptxas and fatbinary on the build host (and FATBIN != 0) the build
# also embeds a fatbin of cubins + PTX for the flavour.
GPU_FLAVOUR ?= generic
FLAVOURS    := generic ampere ada hopper blackwell
FATBIN      ?= 1
NEURON_BIN   = $(if $(filter generic,$(GPU_FLAVOUR)),$(BIN)/neuron,$(BIN)/$(GPU_FLAVOUR)/neuron)
ACTIONLINT  := github.com/rhysd/actionlint/cmd/actionlint@v1.7.12

.PHONY: neuron cortex rpm rpm-cortex rpm-neuron rpm-all test-packaging actionlint

neuron:
	@case " $(FLAVOURS) " in *" $(GPU_FLAVOUR) "*) ;; *) echo "GPU_FLAVOUR must be one of: $(FLAVOURS)"; exit 2 ;; esac
	@mkdir -p $(dir $(NEURON_BIN))
	@rm -rf kernels/fatbin; tags='$(if $(filter-out generic,$(GPU_FLAVOUR)),flavour_$(GPU_FLAVOUR))'; \
	if [ '$(FATBIN)' != 0 ] && command -v ptxas >/dev/null && command -v fatbinary >/dev/null; then \
	  ./scripts/build-kernels.sh --fatbin $(GPU_FLAVOUR) && tags="$$tags kernels_fatbin"; \
	fi; \
	echo "$(GO) build -tags '$$tags' -o $(NEURON_BIN) ./cmd/neuron"; \
	$(GO) build -trimpath -tags "$$tags" -ldflags '$(LDFLAGS)' -o $(NEURON_BIN) ./cmd/neuron
	@rm -rf kernels/fatbin

cortex:
	@mkdir -p $(BIN)
	$(GO) build -trimpath -ldflags '$(LDFLAGS)' -o $(BIN)/cortex ./cmd/cortex

# rpm builds helexa-cortex and the GPU_FLAVOUR neuron package into dist/,
# stamped with scripts/rpm-version.sh (0.1.YYYYMMDDgitSHORTSHA).
rpm: rpm-cortex rpm-neuron

rpm-cortex:
	$(MAKE) cortex VERSION=$$(./scripts/rpm-version.sh)
	./scripts/build-rpm.sh cortex $(BIN)/cortex

rpm-neuron:
	$(MAKE) neuron VERSION=$$(./scripts/rpm-version.sh)
	./scripts/build-rpm.sh neuron $(GPU_FLAVOUR) $(NEURON_BIN)

# rpm-all builds cortex and every flavour's neuron package.
rpm-all: rpm-cortex
	@for f in $(FLAVOURS); do $(MAKE) rpm-neuron GPU_FLAVOUR=$$f || exit 1; done

# test-packaging builds RPMs and checks them with the real rpm, createrepo_c
# and systemd-analyze (installing them from apt when missing).
test-packaging:
	./scripts/test-packaging.sh

# actionlint checks the prerelease workflow (and its shell steps with
# shellcheck when that is installed).
actionlint:
	$(GO) run $(ACTIONLINT) -config-file .gitea/actionlint.yaml .gitea/workflows/*.yml

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
