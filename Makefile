# SPDX-License-Identifier: GPL-2.0-or-later
# Thin wrapper over Meson so that the usual verbs work from the top:
#   make, make check, make demo, make bench, make install DESTDIR=... PREFIX=...
PREFIX ?= /usr/local
DESTDIR ?=
BUILD ?= build
MESON ?= meson

.PHONY: all deps deps-check deps-bench build check check-slow demo bench install clean fmt

all: build

deps:
	@sh scripts/install-deps.sh build

deps-check:
	@sh scripts/install-deps.sh build check

deps-bench:
	@sh scripts/install-deps.sh build bench

$(BUILD)/build.ninja:
	$(MESON) setup $(BUILD) --prefix=$(PREFIX)

build: deps $(BUILD)/build.ninja
	@if [ "$$(cat $(BUILD)/.kc-prefix 2>/dev/null)" != "$(PREFIX)" ]; then \
		$(MESON) configure $(BUILD) -Dprefix=$(PREFIX) >/dev/null && echo "$(PREFIX)" > $(BUILD)/.kc-prefix; fi
	ninja -C $(BUILD)

check: deps-check
	@sh scripts/check.sh

check-slow: deps-check
	@KC_SLOW=1 sh scripts/check.sh

demo: build
	@sh scripts/demo.sh $(BUILD)

bench: deps-bench build
	@sh bench/run.sh $(BUILD)

install: build
	DESTDIR="$(DESTDIR)" $(MESON) install -C $(BUILD) --no-rebuild

fmt:
	clang-format -i $$(git ls-files '*.c' '*.h')

clean:
	rm -rf build build-asan build-fuzz tests/out
