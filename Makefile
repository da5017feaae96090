# Two commands on a fresh machine:  make demo   and   make test
# Others: make deps, make lint, make format, make docs, make fuzz, make bench,
# make build, make fixtures.

SYSTEM_PACKAGES := libfdt-dev libzstd-dev libkdumpfile-dev device-tree-compiler libjudy-dev zstd
FUZZ_TARGETS := $(shell sed -n 's/^  "\(Fuzz[A-Za-z0-9]*\)",.*/\1/p' Fuzz/Package.swift)
FUZZ_SMOKE_SECONDS ?= 15
FUZZ_SECONDS ?= 300
SWIFT ?= swift
SHELL := /bin/bash

.PHONY: deps build demo test lint format docs unit fuzz-smoke fuzz bench fixtures clean

# Install the system libraries and tools when missing (as root), or say how.
deps:
	@missing=""; for p in $(SYSTEM_PACKAGES); do \
	  dpkg-query -W -f='$${Status}' $$p 2>/dev/null | grep -q "install ok installed" || missing="$$missing $$p"; \
	done; \
	if [ -n "$$missing" ]; then \
	  if [ "$$(id -u)" = 0 ]; then \
	    echo "installing:$$missing"; \
	    (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $$missing) >/dev/null || exit 2; \
	  else \
	    echo "missing system packages; run: sudo apt-get install -y$$missing"; exit 2; \
	  fi; \
	fi

build: deps
	$(SWIFT) build

demo: deps
	@$(SWIFT) build --product khodump 2>&1 | grep -v '^warning: ' | tail -1
	@.build/debug/khodump demo

test: deps lint unit fuzz-smoke

# The tests take about a minute; a run past UNIT_TEST_SECONDS is a hang
# (a loop that never ends), stopped and reported as one instead of
# holding CI until its own limit.
UNIT_TEST_SECONDS ?= 900

unit: deps
	$(SWIFT) build --build-tests
	timeout --kill-after=10 $(UNIT_TEST_SECONDS) $(SWIFT) test --skip-build 2>&1 | tee .build/test.log \
	  | grep -v -e '^✔ Test "' -e '^◇ Test "'; \
	  rc=$${PIPESTATUS[0]}; \
	  if [ $$rc -eq 124 ] || [ $$rc -eq 137 ]; then \
	    echo "unit tests still running after $(UNIT_TEST_SECONDS) s: stopped as a hang"; \
	  fi; \
	  exit $$rc

# swift-format with the repository's .swift-format; any finding fails.
LINT_PATHS := Sources Tests Fuzz/Sources Benchmarks/Benchmarks
lint:
	$(SWIFT) format lint --strict --recursive $(LINT_PATHS)

# Format the sources in place with the same configuration.
format:
	$(SWIFT) format --in-place --recursive $(LINT_PATHS)

# The DocC catalogs of the library modules (into .build/docs/MODULE), the
# man page and the shell completions of khodump (into Documentation/).
DOC_MODULES := KHOCore XArray KHOFormats KHOCompat KHOImage KHOInspect
docs: deps
	$(SWIFT) build --product khodump 2>&1 | grep -v '^warning: ' | tail -1
	@mkdir -p Documentation/completions
	.build/debug/khodump --generate-completion-script bash > Documentation/completions/khodump.bash
	.build/debug/khodump --generate-completion-script zsh > Documentation/completions/_khodump
	.build/debug/khodump --generate-completion-script fish > Documentation/completions/khodump.fish
	$(SWIFT) package generate-manual 2>&1 | grep -v '^warning: ' | tail -1
	cp .build/plugins/GenerateManual/outputs/khodump/khodump.1 Documentation/khodump.1
	@mkdir -p .build/docs
	@for m in $(DOC_MODULES); do \
	  $(SWIFT) package --allow-writing-to-directory .build/docs generate-documentation --target $$m \
	    --output-path .build/docs/$$m --warnings-as-errors 2>&1 | grep -E 'warning|error|Generated' ; \
	  test $${PIPESTATUS[0]} -eq 0 || exit 1; \
	done

# Every fuzz target for $(FUZZ_SMOKE_SECONDS) s; any crash fails the run.
fuzz-smoke: deps
	@for t in $(FUZZ_TARGETS); do \
	  echo "== fuzz smoke $$t ($(FUZZ_SMOKE_SECONDS) s)"; \
	  Fuzz/run.sh $$t $(FUZZ_SMOKE_SECONDS) || { echo "fuzz target $$t crashed; see Fuzz/Crashes/$$t"; exit 1; }; \
	done

fuzz: deps
	@for t in $(FUZZ_TARGETS); do Fuzz/run.sh $$t $(FUZZ_SECONDS) || exit 1; done

bench: deps
	cd Benchmarks && $(SWIFT) package --allow-writing-to-package-directory benchmark --format markdown

# Remake the QEMU dump fixtures in Tests/KHOImageTests/QEMU (needs
# qemu-system-x86_64, makedumpfile, zstd, readelf; about 4 s; not part of test).
fixtures:
	Scripts/make-qemu-fixtures.sh

clean:
	rm -rf .build Fuzz/.build-fuzz Benchmarks/.build
