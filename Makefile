# The two commands of the README:
#   make run    installs what the server needs, builds it, and serves on loopback
#   make test   installs what the tests need and runs them all (CI runs this)
GO      ?= go
BIN     := bin/ivr
RUNARGS ?=
export CGO_ENABLED := 1

.PHONY: all build run test deps deps-run lint unit fuzz sipp browser bench load prompts corpus mllr clean

all: build

deps:
	@bash scripts/install-deps.sh

deps-run:
	@bash scripts/install-deps.sh --run

build:
	$(GO) build -o $(BIN) ./cmd/ivr

run: deps-run build
	./$(BIN) serve --demo-accounts $(RUNARGS)

lint:
	@out=$$(gofmt -l $$(git ls-files '*.go')); if [ -n "$$out" ]; then echo "gofmt needed:"; echo "$$out"; exit 1; fi
	$(GO) vet ./...

unit:
	$(GO) test -race -count=1 -timeout 20m ./...

# Every fuzz target for FUZZTIME (10s) each; docs/fuzz.md.
FUZZTIME ?= 10s
fuzz:
	FUZZTIME=$(FUZZTIME) bash scripts/fuzz.sh

sipp: build
	bash test/sipp/run.sh $(BIN)

browser: build
	bash test/browser/run.sh

test: deps lint build unit fuzz sipp browser

bench:
	$(GO) test -run '^$$' -bench . -benchmem ./media/ ./prompts/ ./bridge/

load: build
	bash scripts/load.sh $(BIN)

prompts:
	bash scripts/gen-prompts.sh

corpus:
	bash scripts/gen-corpus.sh testdata/corpus 3 42

# asr/phone.mllr: needs scripts/install-deps.sh --adapt (sphinxtrain, sphinxbase-utils, pocketsphinx-testdata, alsa-utils)
mllr:
	bash scripts/gen-mllr.sh

clean:
	rm -rf bin
