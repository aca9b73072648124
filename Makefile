# Cairn's entry points. `make test` is what CI runs (.ci/run).
SHELL := bash
.SHELLFLAGS := -euo pipefail -c
.DEFAULT_GOAL := build

GO ?= go
LOCAL := deploy/local

.PHONY: build test-short test vet run up down clean lint-sh

## build: compile the cairn binary into bin/cairn
build:
	$(GO) build -o bin/cairn ./cmd/cairn

## test-short: unit tests only, no servers (seconds)
test-short:
	$(GO) test -short ./...

## test: start local ClickHouse and Kafka (reusing running ones), vet, run
## every test with -race against them, then stop what this run started,
## keeping the tests' exit status. Prints one line per top-level test (full
## log in .cache/test.log).
test:
	mkdir -p .cache
	$(LOCAL)/with-servers.sh bash -o pipefail -c '$(GO) vet ./... && $(GO) test -race -count=1 -timeout 20m -v ./... 2>&1 | tee .cache/test.log | awk -f $(LOCAL)/test-summary.awk'

## run: `cairn dev`, which starts its own ClickHouse (installed if missing).
## The binary runs in make's place, so Ctrl-C reaches it alone and it
## exits 0 after its ordered shutdown. ARGS passes flags: make run ARGS=-h
run: build
	$(LOCAL)/install.sh clickhouse
	exec bin/cairn dev $(ARGS)

## up / down: local ClickHouse and Kafka for a shell;
## use with eval "$$(deploy/local/up.sh)" to get the CAIRN_TEST_* variables
up:
	$(LOCAL)/up.sh

down:
	$(LOCAL)/down.sh

## lint-sh: shellcheck the scripts (needs the shellcheck package)
lint-sh:
	shellcheck -x $(LOCAL)/*.sh .ci/run

## clean: stop the local servers and remove their state and bin/
clean:
	-$(LOCAL)/down.sh --all
	rm -rf .cache/local bin
