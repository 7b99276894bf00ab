# A thin wrapper over Meson. `make` builds into build/; `make run` and
# `make test` install missing Debian packages first (README.md).
MESON ?= meson
NINJA ?= ninja
BUILD ?= build

.PHONY: all deps build run test asan test-asan tsan test-tsan fuzz bench valgrind clean crash-test

all: build

deps:
	@sh tools/deps.sh

# The test builds compile the test-only hooks (src/util/test_hooks.h); a
# release build (meson setup without -Dtest_hooks=true) has none.
$(BUILD)/build.ninja:
	$(MESON) setup $(BUILD) --buildtype=debugoptimized -Dtest_hooks=true

build: deps $(BUILD)/build.ninja
	$(NINJA) -C $(BUILD)

run: build
	@sh tools/demo.sh $(ARGS)

test: build
	@sh tools/test-summary.sh $(BUILD)

build-asan/build.ninja:
	$(MESON) setup build-asan --buildtype=debug -Db_sanitize=address,undefined -Db_lundef=false \
		-Dtest_hooks=true

asan: deps build-asan/build.ninja
	$(NINJA) -C build-asan

test-asan: asan
	@sh tools/test-summary.sh build-asan

build-tsan/build.ninja:
	$(MESON) setup build-tsan --buildtype=debug -Db_sanitize=thread -Db_lundef=false \
		-Dtest_hooks=true

tsan: deps build-tsan/build.ninja
	$(NINJA) -C build-tsan

test-tsan: tsan
	@sh tools/test-summary.sh build-tsan --suite threads

build-fuzz/build.ninja:
	CC=clang $(MESON) setup build-fuzz --buildtype=debugoptimized -Dfuzz=true -Dtests=false \
		-Db_sanitize=address,undefined -Db_lundef=false

fuzz:
	@sh tools/deps.sh fuzz
	$(MAKE) build-fuzz/build.ninja
	$(NINJA) -C build-fuzz

valgrind: build
	@sh tools/deps.sh valgrind
	@sh tools/test-summary.sh $(BUILD) --suite unit --wrap='valgrind --error-exitcode=99 --leak-check=full --errors-for-leak-kinds=definite -q'

bench: build
	@sh tools/deps.sh bench
	@sh bench/run.sh

# The long crash loop (issue 11 point 3): every write stopped at each test
# point and by CRASH_RUNS random SIGKILLs per operation (the suite runs 24).
CRASH_RUNS ?= 200
crash-test: build
	@$(MESON) configure $(BUILD) -Dtest_hooks=true >/dev/null
	$(NINJA) -C $(BUILD)
	SKILLMEAT_BIN=$(CURDIR)/$(BUILD)/skillmeat python3 tests/crash/test_crash.py --random $(CRASH_RUNS)

clean:
	rm -rf build build-asan build-tsan build-fuzz
