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

.PHONY: all deps build module tool unit test integration demo start stop clean fuzz bench format-check docs

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

$(BUILD)/unit/%: tests/unit/%.c $(CORE_SRCS) $(CORE_HDRS) | $(DEPS_STAMP)
	@mkdir -p $(BUILD)/unit
	$(CC) $(CFLAGS_CORE) -fsanitize=address,undefined -fno-omit-frame-pointer $(shell pkg-config --cflags $(PKGS) cmocka) -o $@ $< $(CORE_SRCS) $(shell pkg-config --libs $(PKGS) cmocka)

unit: $(UNIT_BINS)
	@set -e; for t in $(UNIT_BINS); do echo "== $$t"; TPID_VECTORS=$(CURDIR)/tests/vectors $$t; done

integration: build
	tools/check-ports.sh
	$(PY) -m pytest -v tests/integration

test: deps build unit integration

demo: build
	$(PY) tools/demo.py

start: build
	$(PY) tools/stack.py start

stop:
	$(PY) tools/stack.py stop

clean:
	$(MAKE) -C $(MOD_DIR) KSR_SRC=$(KSR_TREE)/src clean || true
	rm -rf $(BUILD)/unit $(BUILD)/tpid-token $(BUILD)/run
