# A thin wrapper over Meson. `make` builds into build/; `make run` and
# `make test` install missing Debian packages first (README.md).
MESON ?= meson
NINJA ?= ninja
BUILD ?= build

.PHONY: all deps build run run-team test asan test-asan tsan test-tsan fuzz fuzz-short bench valgrind clean \
	crash-test

all: build

deps:
	@sh tools/deps.sh

$(BUILD)/build.ninja:
	$(MESON) setup $(BUILD) --buildtype=debugoptimized -Dtest_hooks=true

build: deps $(BUILD)/build.ninja
	$(NINJA) -C $(BUILD)

run: build
	@sh tools/demo.sh $(ARGS)

# team mode: a local PostgreSQL and two instances on a demo tenant (docs/team.md)
run-team: build
	@sh tools/run-team.sh

test: build
	@sh tools/test-hooks.sh $(BUILD)
	@sh tools/test-summary.sh $(BUILD)

build-asan/build.ninja:
	$(MESON) setup build-asan --buildtype=debug -Db_sanitize=address,undefined -Db_lundef=false -Dtest_hooks=true

asan: deps build-asan/build.ninja
	$(NINJA) -C build-asan

# Sanitizers run the same tests 2-10x slower: meson's per-test timeouts are tripled there
# (the tests assert no time; a timeout only guards against a hang).
test-asan: asan
	@sh tools/test-hooks.sh build-asan
	@sh tools/test-summary.sh build-asan --timeout-multiplier 3

build-tsan/build.ninja:
	$(MESON) setup build-tsan --buildtype=debug -Db_sanitize=thread -Db_lundef=false -Dtest_hooks=true

tsan: deps build-tsan/build.ninja
	$(NINJA) -C build-tsan

test-tsan: tsan
	@sh tools/test-hooks.sh build-tsan
	@sh tools/test-summary.sh build-tsan --suite threads --timeout-multiplier 3

build-fuzz/build.ninja:
	CC=clang $(MESON) setup build-fuzz --buildtype=debugoptimized -Dfuzz=true -Dtests=false \
		-Db_sanitize=address,undefined -Db_lundef=false

fuzz:
	@sh tools/deps.sh fuzz
	$(MAKE) build-fuzz/build.ninja
	$(NINJA) -C build-fuzz

# every fuzz target for FUZZ_SECONDS (25) each: CI's short run (tools/fuzz-short.sh)
fuzz-short: fuzz
	@sh tools/fuzz-short.sh build-fuzz

valgrind: build
	@sh tools/deps.sh valgrind
	@sh tools/test-summary.sh $(BUILD) --suite unit --wrap='valgrind --error-exitcode=99 --leak-check=full --errors-for-leak-kinds=definite -q'

bench: build
	@sh tools/deps.sh bench
	@sh bench/run.sh

# The long crash loop (issue 11 point 3): every write stopped at each passage
# of each test point (SIGKILL, injected failure) and by CRASH_RUNS random
# SIGKILLs per operation (make test runs a short sample: tests/crash/meson.build).
CRASH_RUNS ?= 48
crash-test: build
	@sh tools/test-hooks.sh $(BUILD)
	$(NINJA) -C $(BUILD)
	SKILLMEAT_BIN=$(CURDIR)/$(BUILD)/skillmeat python3 tests/crash/test_crash.py --random $(CRASH_RUNS)

clean:
	rm -rf build build-asan build-tsan build-fuzz
