# Top-level driver for the README commands; the build itself is meson + ninja.
PREFIX ?= /usr/local
BUILD ?= build
MESON_OPTS ?=

.PHONY: all build deps install check check-unit check-integration check-v2 check-asan bench bench-engine bench-pull clean

all: build

deps:
	./scripts/install-deps.sh

$(BUILD)/build.ninja:
	meson setup $(BUILD) --prefix=$(abspath $(PREFIX)) $(MESON_OPTS)

build: $(BUILD)/build.ninja
	ninja -C $(BUILD)

install: build
	meson configure $(BUILD) --prefix=$(abspath $(PREFIX)) >/dev/null
	DESTDIR=$(DESTDIR) meson install -C $(BUILD) --quiet

check-unit: build
	meson test -C $(BUILD) --print-errorlogs

check-integration: build
	MOAT_BUILD=$(abspath $(BUILD)) /usr/bin/python3 -m pytest -q tests/integration

check-asan:
	meson setup build-asan -Db_sanitize=address,undefined -Db_lundef=false --buildtype=debug >/dev/null 2>&1 || true
	ninja -C build-asan
	ASAN_OPTIONS=detect_leaks=1 UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1 meson test -C build-asan --print-errorlogs

# The cgroup tests and the integration subset marked v2 on a pure cgroup v2 host: an emulated VM
# booted by tests/v2/v2vm (needs root; about a minute). See tests/v2/run.sh.
check-v2: build
	./tests/v2/run.sh $(abspath $(BUILD))

# The whole suite, as CI runs it: unit, integration, the sanitizer build, and the cgroup v2 subset.
check: check-unit check-integration check-asan check-v2

bench: build
	./bench/runtime.sh $(abspath $(BUILD))

clean:
	rm -rf $(BUILD) build-asan

# moat run --rm beside podman run --rm, and the monitor's memory beside conmon (docs/PERFORMANCE.md).
bench-engine: build
	./bench/engine.sh $(abspath $(BUILD))

# Image pull beside skopeo and podman (docs/PERFORMANCE.md, "Image pull").
bench-pull: build
	./bench/pull.sh $(abspath $(BUILD))
