# Volley — the two commands are `make run` and `make test`; both set the machine up first.
SHELL := /bin/bash
LISTEN ?= 127.0.0.1:8080
DATA_DIR ?= ./var
SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)
APT_PACKAGES := libmicrohttpd-dev zlib1g-dev pkg-config curl jq python3-venv iproute2 iputils-ping openssl \
	dnsmasq-base prometheus
VENV := .build-tools/venv

.PHONY: deps build release run test test-swift test-fallback test-openapi test-contract test-deploy test-tsan \
	test-fuzz fuzz fuzz-build bench clean rehearsal

## deps: install libmicrohttpd-dev (and the small tools the tests use) with apt-get when missing.
deps:
	@if ! pkg-config --exists libmicrohttpd zlib 2>/dev/null || ! command -v curl >/dev/null || ! command -v jq >/dev/null \
	    || ! python3 -c 'import venv, ensurepip' 2>/dev/null || ! command -v ip >/dev/null || ! command -v ping >/dev/null \
	    || ! command -v openssl >/dev/null || [ ! -x /usr/sbin/dnsmasq ] || ! command -v promtool >/dev/null; then \
	  echo "make deps: installing $(APT_PACKAGES)"; \
	  $(SUDO) apt-get update -qq && DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -qq $(APT_PACKAGES); \
	fi
	@pkg-config --exists libmicrohttpd || { echo "libmicrohttpd not found by pkg-config" >&2; exit 1; }

build: deps
	swift build

release: deps
	swift build -c release

## run: build (optimised) and start the agent on $(LISTEN) with data in $(DATA_DIR).
run: release
	.build/release/volley serve --listen $(LISTEN) --data-dir $(DATA_DIR)

## test: every test — Swift tests, the forced-fallback build, the OpenAPI document and a contract test
## of the live agent against it, the engine and agent tests under ThreadSanitizer, and a short fuzz run.
test: deps $(VENV)/.installed test-swift test-fallback test-openapi test-contract test-deploy test-tsan test-fuzz rehearsal
	@bash scripts/test-summary.sh .build/test-swift.log .build/rehearsal.log

## The Swift tests; their output is kept in .build/test-swift.log for the summary (SKIPPED lines).
## The multi-host tests make network namespaces (scripts/testhosts.sh) and need root, iproute2 and openssl.
test-swift: $(VENV)/.installed
	@# A venv made before scapy joined the list above has the marker but not scapy.
	@$(VENV)/bin/python3 -c 'import scapy.contrib.stamp' 2>/dev/null || $(VENV)/bin/pip install -q scapy
	swift build --build-tests
	set -o pipefail; VOLLEY_PYTHON=$(VENV)/bin/python3 swift test --skip-build --no-parallel 2>&1 | tee .build/test-swift.log

## The same engine and shim tests with sendmmsg/recvmmsg compiled out (the portable sendmsg loop).
test-fallback:
	swift build --build-tests --scratch-path .build-fallback -Xcc -DCBATCHIO_FORCE_FALLBACK
	swift test --skip-build --no-parallel --scratch-path .build-fallback --filter 'CBatchIOTests|VolleyEngineTests'

## Python tools the tests use: the OpenAPI validator, hdrhistogram to read our HDR encoding, and scapy,
## whose STAMP codec the interop tests (Tests/Interop) hold Volley to.
$(VENV)/.installed:
	python3 -m venv $(VENV)
	$(VENV)/bin/pip install -q openapi-spec-validator hdrhistogram schemathesis scapy
	touch $@

test-openapi: $(VENV)/.installed
	$(VENV)/bin/openapi-spec-validator openapi.yaml

## schemathesis against a live agent: no 5xx, every response as openapi.yaml says. Limits keep the
## jobs it generates short and slow; they target loopback only (the default allowlist).
test-contract: $(VENV)/.installed
	swift build
	VENV=$(VENV) bash scripts/contract-test.sh

## deploy/: systemd-analyze verify, kubernetes-validate --strict, hadolint and structural checks.
test-deploy:
	bash scripts/validate-deploy.sh

## rehearsal: the multi-host scenario by hand in under a minute (root): 3 test hosts with HTTPS agents,
## dnsmasq, Prometheus from deploy/prometheus, a fleet found with --dns; prints a table. 77 = skipped.
rehearsal: deps
	swift build
	set -o pipefail; bash scripts/rehearsal.sh .build/debug/volley 2>&1 | tee .build/rehearsal.log || [ $${PIPESTATUS[0]} = 77 ]

## The engine and agent tests under ThreadSanitizer, in a build folder of their own.
test-tsan:
	swift build --build-tests --sanitize=thread --scratch-path .build-tsan
	VOLLEY_TIMING_SLACK=10 swift test --skip-build --sanitize=thread --scratch-path .build-tsan --no-parallel \
	    --filter 'VolleyEngineTests|VolleyAgentTests'

## libFuzzer with AddressSanitizer over the parsers of outside data (Sources/volley-fuzz). SwiftPM renames
## every executable's main, so instead of -sanitize=fuzzer (whose libFuzzer brings its own main) the
## build asks for the same coverage and links libFuzzer without its main; volley-fuzz calls its driver.
FUZZ_TARGETS := spec hdr stamp stamp-rfc stored text
FUZZ_SECONDS ?= 180
FUZZ_TEST_SECONDS ?= 20
FUZZ_BUILD := .build-fuzz
CLANG_RT = $(dir $(realpath $(shell command -v swiftc)))../lib/clang/*/lib/linux
FUZZER_LIB = $(firstword $(wildcard $(CLANG_RT)/libclang_rt.fuzzer_no_main-$(shell uname -m).a))

fuzz-build:
	@test -n "$(FUZZER_LIB)" || { echo "libclang_rt.fuzzer_no_main is not in the Swift toolchain" >&2; exit 1; }
	swift build --product volley-fuzz --scratch-path $(FUZZ_BUILD) -c release --sanitize=address \
	    -Xswiftc -sanitize-coverage=edge,trace-cmp,inline-8bit-counters,pc-table -Xswiftc -DVOLLEY_FUZZING \
	    -Xswiftc -enable-experimental-feature -Xswiftc Extern -Xlinker $(FUZZER_LIB) -Xlinker -lstdc++

## fuzz: every target for FUZZ_SECONDS (3 minutes each by default).
fuzz: fuzz-build
	bash Tests/Fuzz/run.sh $(FUZZ_BUILD) $(FUZZ_SECONDS) $(FUZZ_TARGETS)

## test-fuzz: every target for FUZZ_TEST_SECONDS, as part of `make test`.
test-fuzz: fuzz-build
	bash Tests/Fuzz/run.sh $(FUZZ_BUILD) $(FUZZ_TEST_SECONDS) $(FUZZ_TARGETS)

bench: release $(VENV)/.installed
	VOLLEY_PYTHON=$(VENV)/bin/python3 bash Benchmarks/run.sh

clean:
	rm -rf .build .build-fallback .build-tsan .build-tools .build-bench .build-fuzz
