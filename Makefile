# tpid_assert - top-level build, demo and tests.
# `make demo` and `make test` are all a fresh Debian 12 machine needs.

BUILD       := $(CURDIR)/build
KSR_TREE    := $(BUILD)/kamailio-5.6.3
MOD_DIR     := modules/tpid_assert
PY          := /usr/bin/python3
CC          ?= gcc
WARN        := -Wall -Wextra -Werror
CFLAGS_CORE := -std=c11 -D_POSIX_C_SOURCE=200809L -O2 -g $(WARN) -I$(MOD_DIR)
PKGS        := libcurl jansson libcrypto
# The plain-C logic: every tpid_*.c of the module except the Kamailio glue
# (tpid_assert_*.c). Unit tests, the tool and the fuzz targets link these.
CORE_SRCS   := $(filter-out $(MOD_DIR)/tpid_assert_%.c,$(wildcard $(MOD_DIR)/tpid_*.c))
CORE_HDRS   := $(wildcard $(MOD_DIR)/tpid_*.h)
UNIT_SRCS   := $(wildcard tests/unit/test_*.c)
UNIT_BINS   := $(patsubst tests/unit/%.c,$(BUILD)/unit/%,$(UNIT_SRCS))
DEPS_STAMP  := $(BUILD)/.deps-ok

.PHONY: all deps build module tool pki unit test test-asan integration demo start stop clean fuzz fuzz-long bench soak metrics-picture deb test-k6 format format-check docs

all: build

$(DEPS_STAMP): tools/install-deps.sh
	tools/install-deps.sh $(BUILD)
	touch $@

deps: $(DEPS_STAMP)

build: module tool

module: $(DEPS_STAMP)
	$(MAKE) -C $(MOD_DIR) KSR_SRC=$(KSR_TREE)/src

tool: $(BUILD)/tpid-token

$(BUILD)/tpid-token: tools/tpid-token/main.c $(CORE_SRCS) $(CORE_HDRS) | $(DEPS_STAMP)
	@mkdir -p $(BUILD)
	$(CC) $(CFLAGS_CORE) $(shell pkg-config --cflags $(PKGS)) -o $@ tools/tpid-token/main.c $(CORE_SRCS) $(shell pkg-config --libs $(PKGS))

$(BUILD)/unit/%: tests/unit/%.c $(wildcard tests/unit/*.h) $(CORE_SRCS) $(CORE_HDRS) | $(DEPS_STAMP)
	@mkdir -p $(BUILD)/unit
	$(CC) $(CFLAGS_CORE) -fsanitize=address,undefined -fno-omit-frame-pointer -pthread $(shell pkg-config --cflags $(PKGS) cmocka) -o $@ $< $(CORE_SRCS) $(shell pkg-config --libs $(PKGS) cmocka)

# The test PKI (make-pki.sh regenerates it when the script changes): some unit
# suites read the certificates the openssl CLI made.
pki: $(DEPS_STAMP)
	bash tools/make-pki.sh $(BUILD)/pki

unit: $(UNIT_BINS) pki
	@set -e; for t in $(UNIT_BINS); do echo "== $$t"; TPID_VECTORS=$(CURDIR)/tests/vectors TPID_PKI=$(BUILD)/pki $$t; done

# Starts its own stack on 127.0.0.1:5060/5070/5080/8443; fails if any is busy.
integration: build
	$(PY) -m pytest -v -p no:cacheprovider tests/integration

# modules/tpid_assert/README from the DocBook, with Kamailio's own doc tooling
# (it expects the module inside the source tree: a copy goes there).
KSR_DOC_MOD := $(KSR_TREE)/src/modules/tpid_assert
docs: $(DEPS_STAMP)
	@command -v lynx >/dev/null && dpkg -s docbook-xml >/dev/null 2>&1 || \
		DEBIAN_FRONTEND=noninteractive apt-get install -y -q lynx docbook-xml
	rm -rf $(KSR_DOC_MOD) && mkdir -p $(KSR_DOC_MOD)
	cp -r $(MOD_DIR)/doc $(KSR_DOC_MOD)/
	$(MAKE) -C $(KSR_DOC_MOD)/doc README
	cp $(KSR_DOC_MOD)/README $(MOD_DIR)/README

# Our C in Kamailio's clang-format style (.clang-format is Kamailio's).
FORMAT_SRCS := $(wildcard $(MOD_DIR)/*.[ch] tools/tpid-token/*.c tests/unit/*.[ch] tests/fuzz/*.c bench/*.[ch])
format-check:
	clang-format --style=file --dry-run --Werror $(FORMAT_SRCS)

format:
	clang-format --style=file -i $(FORMAT_SRCS)

test: deps format-check build unit integration

# The integration tests against a Kamailio built with AddressSanitizer and
# UBSan from the same source (tools/build-asan.sh, once into build/asan) with
# the module built with the same flags. Any sanitizer report fails the run
# (leak checking is off: Kamailio's processes exit without freeing; the ODR
# check is off: every Kamailio module defines a global named `exports`, the
# module ABI, and two of them in one process are not a bug).
ASAN_TREE := $(BUILD)/asan/kamailio-5.6.3/src
ASAN_LOGS := $(BUILD)/asan/logs
ASAN_CACHE := $(BUILD)/asan/pytest-cache
# Everything runs 2-3 times slower under the sanitizers: a test that fails
# is run once more (--lf), a sanitizer report is never forgiven.
test-asan: deps build pki
	bash tools/build-asan.sh $(BUILD)
	rm -rf $(ASAN_LOGS) $(ASAN_CACHE) && mkdir -p $(ASAN_LOGS)
	@rc=0; export TPID_KAMAILIO=$(ASAN_TREE)/kamailio TPID_MOD_PATH=$(ASAN_TREE)/modules/ \
		TPID_MODULE=$(ASAN_TREE)/modules/tpid_assert/tpid_assert.so \
		ASAN_OPTIONS=detect_leaks=0:detect_odr_violation=0:log_path=$(ASAN_LOGS)/asan \
		UBSAN_OPTIONS=print_stacktrace=1:log_path=$(ASAN_LOGS)/ubsan; \
	$(PY) -m pytest -v -o cache_dir=$(ASAN_CACHE) tests/integration || \
		{ echo "== the failed tests once more (timing under the sanitizers)"; \
		  $(PY) -m pytest -v -o cache_dir=$(ASAN_CACHE) --lf tests/integration; } || rc=$$?; \
	if ls $(ASAN_LOGS)/* >/dev/null 2>&1; then \
		echo "sanitizer reports in $(ASAN_LOGS):"; cat $(ASAN_LOGS)/*; exit 1; fi; \
	echo "no sanitizer report"; exit $$rc

# A Debian binary package built with debhelper (debian/): the module where
# Debian's kamailio looks for modules, tpid-token, the DocBook README, the docs
# and, as examples, the cfgs and the reference services. dpkg-buildpackage
# writes next to the checkout; the results are moved to build/deb/.
DEB_VERSION := $(shell dpkg-parsechangelog -l debian/changelog -S Version 2>/dev/null)
deb: build
	@dpkg -s debhelper lintian >/dev/null 2>&1 || DEBIAN_FRONTEND=noninteractive \
		apt-get install -y -q --no-install-recommends debhelper lintian
	rm -rf $(BUILD)/deb && mkdir -p $(BUILD)/deb
	dpkg-buildpackage -b -us -uc
	mv ../kamailio-tpid-assert-module_$(DEB_VERSION)_* ../kamailio-tpid-assert-module-dbgsym_$(DEB_VERSION)_* \
		../tpid-assert_$(DEB_VERSION)_* $(BUILD)/deb/
	lintian --fail-on error $(BUILD)/deb/*.deb

# The integration suite on Kamailio 6.0 (Debian 13's source package, built once
# into build/k6 by tools/build-kamailio6.sh) with the module built against it.
K6_TREE := $(BUILD)/k6/tree/src
test-k6: deps build pki
	bash tools/build-kamailio6.sh $(BUILD)
	TPID_KAMAILIO=$(K6_TREE)/kamailio TPID_MOD_PATH=$(K6_TREE)/modules/ \
		TPID_MODULE=$(K6_TREE)/modules/tpid_assert/tpid_assert.so \
		$(PY) -m pytest -v -p no:cacheprovider tests/integration

# MS=1: both roles through the reference STI-AS / STI-VS (Ms)
demo: build
	$(PY) tools/demo.py $(if $(MS),--ms)

start: build
	$(PY) tools/stack.py start

stop:
	$(PY) tools/stack.py stop

clean:
	$(MAKE) -C $(MOD_DIR) KSR_SRC=$(KSR_TREE)/src clean || true
	rm -rf $(BUILD)/unit $(BUILD)/tpid-token $(BUILD)/run

# Benchmark (not part of `make test`): relay vs tpid path, about 10 minutes, all on
# 127.0.0.1 (ports 5060/5070/5080/5090 udp, 8443 tcp). See bench/README.md.
# Extra options: make bench BENCH_ARGS="--rate 600 --scenarios ab"
bench: build
	$(PY) bench/run.py $(BENCH_ARGS)

# Soak (not part of `make test`): the whole stack for 10 minutes at 80 % of its
# measured maximum rate while the enterprise hook and the certificate repository
# fail on a schedule, with revocations, flushes and reloads by RPC; every call
# judged against the policies, memory and workers checked. About 15 minutes, same
# ports as the tests. See tests/soak/README.md. Shorter: SOAK_ARGS="--seconds 120".
soak: build pki
	$(PY) tests/soak/soak.py $(SOAK_ARGS)

# docs/metrics.png: a short soak with both instances exporting /metrics
# (-A WITH_PROMETHEUS), scraped every second and plotted.
metrics-picture: build pki
	@$(PY) -c 'import matplotlib' 2>/dev/null || DEBIAN_FRONTEND=noninteractive apt-get install -y -q python3-matplotlib
	$(PY) tests/soak/soak.py --rate 300 --seconds 150 --warmup 15 --cycle 90 --metrics docs/metrics.png

# libFuzzer targets: every parser of network or file input, each with an
# oracle (see tests/fuzz/README.md). FUZZ_SECONDS each; the seeds in
# tests/fuzz/corpus/<target> start build/fuzz/corpus-<target>, which keeps
# what the runs find. clang is installed when missing.
FUZZ_TARGETS := token idhdr binding ident pem x5u bar hook enterprise jcc cache cluster ms
FUZZ_SECONDS ?= 30
FUZZ_SRCS   := $(filter-out $(MOD_DIR)/tpid_keymap.c $(MOD_DIR)/tpid_replay.c $(MOD_DIR)/tpid_certcache.c $(MOD_DIR)/tpid_signkey.c,$(CORE_SRCS))
fuzz: $(DEPS_STAMP)
	@command -v clang >/dev/null 2>&1 || DEBIAN_FRONTEND=noninteractive apt-get install -y -q clang
	@set -e; for t in $(FUZZ_TARGETS); do \
		mkdir -p $(BUILD)/fuzz/corpus-$$t; \
		cp -n tests/fuzz/corpus/$$t/* $(BUILD)/fuzz/corpus-$$t/ 2>/dev/null || true; \
		clang -std=c11 -D_POSIX_C_SOURCE=200809L -O1 -g -Wall -Wextra -Werror -I$(MOD_DIR) -fsanitize=fuzzer,address,undefined $(shell pkg-config --cflags $(PKGS)) -o $(BUILD)/fuzz/fuzz_$$t tests/fuzz/fuzz_$$t.c $(FUZZ_SRCS) $(shell pkg-config --libs $(PKGS)) -lpthread; \
		$(BUILD)/fuzz/fuzz_$$t -max_total_time=$(FUZZ_SECONDS) $(BUILD)/fuzz/corpus-$$t; \
	done

# The long run recorded in tests/fuzz/README.md: FUZZ_RUNS executions of every
# target (about 50 minutes on 2 cores for 10 million), then the table.
FUZZ_RUNS ?= 10000000
fuzz-long:
	$(MAKE) fuzz FUZZ_SECONDS=1
	bash tests/fuzz/long_run.sh $(FUZZ_RUNS)
