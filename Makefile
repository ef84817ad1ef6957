# hfinit: a static, musl-linked PID 1.
#   make          build/hfinit (static, stripped)
#   make test     format check, C unit tests (ASan/UBSan), integration tests as PID 1
#   make bench    side-by-side benchmark with tini, dumb-init, catatonit
#   make fuzz     libFuzzer: config parser, output lines, JSON escaping, notify datagrams (not in make test)
# Dependencies (libseccomp, inih) are built from Debian source packages by
# scripts/build-deps into build/deps once, and reused.

VERSION := 0.1.0
BUILD   ?= build
DEPS    ?= $(BUILD)/deps
SHELL   := /bin/bash

# This machine sets LIBRARY_PATH to CUDA stubs; none of these may reach musl-gcc.
unexport LIBRARY_PATH CPATH C_INCLUDE_PATH
# (make 4.3 does not pass exported variables to $(shell), so say it each time)
PKGCONF := PKG_CONFIG_LIBDIR=$(abspath $(DEPS)/musl/lib/pkgconfig) pkg-config
PKGS := libseccomp inih

WARN    := -std=c11 -Wall -Wextra -Werror -D_GNU_SOURCE
DEFS    := -DHFINIT_VERSION='"$(VERSION)"'
LAYERS  := base conf run plan status sup cmd
SRC     := $(wildcard src/*.c $(LAYERS:%=src/%/*.c))
HDR     := $(wildcard $(LAYERS:%=src/%/*.h))
INC     := -Isrc
LIBSRC  := $(filter-out src/main.c,$(SRC))

# --- the static binary (musl-gcc) -------------------------------------------
MUSL_CFLAGS = $(WARN) $(DEFS) -Os -fno-asynchronous-unwind-tables -ffunction-sections -fdata-sections \
	-isystem $(DEPS)/kheaders $(INC) $(shell $(PKGCONF) --cflags $(PKGS) 2>/dev/null)
MUSL_LIBS   = $(shell $(PKGCONF) --static --libs $(PKGS) 2>/dev/null)
MUSL_OBJ    := $(SRC:src/%.c=$(BUILD)/musl/%.o)
DEPS_STAMP  := $(DEPS)/.stamp

# --- unit tests (host gcc, ASan/UBSan, cmocka) ---------------------------------
SAN         := -fsanitize=address,undefined -fno-sanitize-recover=all -fno-omit-frame-pointer
HOST_CFLAGS  = $(WARN) $(DEFS) -O1 -g $(SAN) $(INC) \
	$(filter-out -I%,$(shell $(PKGCONF) --cflags inih 2>/dev/null)) -I$(DEPS)/musl/include
HOST_OBJ    := $(LIBSRC:src/%.c=$(BUILD)/host/%.o)
UNIT_SRC    := $(wildcard tests/unit/test_*.c)
UNIT_BIN    := $(UNIT_SRC:tests/unit/%.c=$(BUILD)/unit/%)
UNIT_SUPPORT:= $(filter-out $(UNIT_SRC),$(wildcard tests/unit/*.c))

# --- static test helpers (run inside PID namespaces and scratch images) ---------
HELPER_SRC  := $(wildcard tests/helpers/*.c)
HELPER_BIN  := $(HELPER_SRC:tests/helpers/%.c=$(BUILD)/helpers/%)

PYTEST := /usr/bin/python3 -m pytest

# Objects are intermediate files of pattern rules: keep them between runs.
.SECONDARY:

.PHONY: all deps test unit integration helpers bench fuzz format check-format check-layers clean distclean setup run
all: $(BUILD)/hfinit

# Installs missing Debian packages; a quick no-op when all are there.
setup:
	@scripts/setup-debian

$(DEPS_STAMP): scripts/build-deps | setup
	scripts/build-deps $(DEPS)
	touch $@
deps: $(DEPS_STAMP)

$(BUILD)/musl/%.o: src/%.c $(HDR) $(DEPS_STAMP) Makefile
	@mkdir -p $(@D)
	@echo '  CC      $<'
	@musl-gcc $(MUSL_CFLAGS) -c $< -o $@

$(BUILD)/hfinit: $(MUSL_OBJ) $(DEPS_STAMP)
	@musl-gcc -static -Wl,--gc-sections -s -o $@ $(MUSL_OBJ) $(MUSL_LIBS)
	@printf 'built %s: %s bytes stripped (%s)\n' $@ "$$(stat -c %s $@)" "$$(file -b $@ | cut -d, -f1-5)"

$(BUILD)/host/%.o: src/%.c $(HDR) $(DEPS_STAMP) Makefile
	@mkdir -p $(@D)
	@echo '  CC/san  $<'
	@gcc $(HOST_CFLAGS) -c $< -o $@

$(BUILD)/unit/%: tests/unit/%.c $(UNIT_SUPPORT) $(HOST_OBJ) $(wildcard tests/unit/*.h)
	@mkdir -p $(@D)
	@echo '  LD/san  $@'
	@gcc $(HOST_CFLAGS) -Itests/unit -o $@ $< $(UNIT_SUPPORT) $(HOST_OBJ) \
		$(DEPS)/host/lib/libinih.a -lseccomp -lcmocka

$(BUILD)/helpers/%: tests/helpers/%.c $(DEPS_STAMP)
	@mkdir -p $(@D)
	@echo '  HELPER  $@'
	@musl-gcc $(WARN) -O2 -static -isystem $(DEPS)/kheaders -o $@ $<

helpers: $(HELPER_BIN)

unit: $(UNIT_BIN)
	@set -e; for t in $(UNIT_BIN); do echo "== $$t"; ASAN_OPTIONS=detect_leaks=1 UBSAN_OPTIONS=print_stacktrace=1 $$t; done

integration: $(BUILD)/hfinit $(HELPER_BIN)
	HFINIT_BIN=$(abspath $(BUILD)/hfinit) HFINIT_HELPERS=$(abspath $(BUILD)/helpers) \
		$(PYTEST) -q -p no:cacheprovider tests/integration

check-format: | setup
	clang-format --dry-run -Werror $(SRC) $(HDR) $(wildcard tests/unit/*.[ch] tests/helpers/*.c tests/fuzz/*.c)

format:
	clang-format -i $(SRC) $(HDR) $(wildcard tests/unit/*.[ch] tests/helpers/*.c tests/fuzz/*.c)

# includes point down the layers only (base conf run plan status sup cmd)
check-layers:
	@scripts/check-layers

test: check-format check-layers unit integration

# The example Space under hfinit (README's main command).
run:
	scripts/run-space

# make bench [BENCH_ARGS=--quick]: the inits side by side (bench/run.py), then the
# seccomp filter's cost per system call (bench/seccomp.py).
BENCH_ARGS ?=
bench: $(BUILD)/hfinit $(HELPER_BIN) | setup
	HFINIT_BIN=$(abspath $(BUILD)/hfinit) HFINIT_HELPERS=$(abspath $(BUILD)/helpers) \
		/usr/bin/python3 bench/run.py $(BENCH_ARGS)
	HFINIT_BIN=$(abspath $(BUILD)/hfinit) HFINIT_HELPERS=$(abspath $(BUILD)/helpers) \
		/usr/bin/python3 bench/seccomp.py $(BENCH_ARGS)

# --- fuzzing: libFuzzer (clang; not part of make test) ---------------------------
# make fuzz [FUZZ_TIME=seconds per target] [FUZZ_RUN="output json"]: each target in
# FUZZ_TARGETS is tests/fuzz/fuzz_NAME.c linked with FUZZ_SRC_NAME (+ FUZZ_OBJ_NAME,
# FUZZ_LIBS_NAME), seeded from FUZZ_SEEDS_NAME (default tests/fuzz/corpus-NAME when it
# exists) and run with -max_len=FUZZ_MAXLEN_NAME (default 20000); new inputs go to
# $(BUILD)/fuzz/corpus-NAME, crashes to $(BUILD)/fuzz/NAME-crash-*. To add a target:
# append its name to FUZZ_TARGETS and set its FUZZ_SRC_NAME. inih is compiled from
# the same Debian source with the same flags; its zero-length VLA (INI_USE_STACK=0)
# is not ours to fix.
FUZZ_TIME ?= 60
FUZZ_CFLAGS = $(WARN) $(DEFS) -O1 -g -fno-omit-frame-pointer $(INC) -I$(DEPS)/musl/include \
	$(filter-out -I%,$(shell $(PKGCONF) --cflags inih 2>/dev/null))

FUZZ_TARGETS := config output json notify
# config: the config parser on arbitrary bytes
FUZZ_SRC_config  := src/conf/config.c src/conf/parse.c src/base/err.c src/base/signame.c src/base/redact.c
FUZZ_OBJ_config  := $(BUILD)/fuzz/ini.o
FUZZ_LIBS_config := -lseccomp
FUZZ_SEEDS_config := tests/fuzz/corpus
# output: what services send at run time, through the line splitter and the sink
FUZZ_SRC_output  := src/run/output.c
FUZZ_MAXLEN_output := 65536
# json: the one escaper of every JSON line (round trip)
FUZZ_SRC_json    := src/base/json.c src/base/redact.c
# notify: the datagrams services send on their notify socket (and the leftover marker scan)
FUZZ_SRC_notify  := src/run/notify.c src/run/leftover.c src/run/pid1.c src/run/spawn.c src/run/landlock.c src/base/err.c
FUZZ_MAXLEN_notify := 4096
FUZZ_RUN ?= $(FUZZ_TARGETS)

$(BUILD)/fuzz/ini.o: $(DEPS_STAMP)
	@mkdir -p $(@D)
	clang $(filter-out -Wall -Wextra -Werror,$(FUZZ_CFLAGS)) \
		-fsanitize=fuzzer-no-link,address,undefined -fno-sanitize=vla-bound \
		-c $(DEPS)/src/inih/ini.c -o $@

define fuzz_target
$(BUILD)/fuzz/fuzz_$(1): tests/fuzz/fuzz_$(1).c $$(FUZZ_SRC_$(1)) $$(FUZZ_OBJ_$(1)) $(HDR)
	@mkdir -p $$(@D)
	clang $$(FUZZ_CFLAGS) -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=all \
		-o $$@ tests/fuzz/fuzz_$(1).c $$(FUZZ_SRC_$(1)) $$(FUZZ_OBJ_$(1)) $$(FUZZ_LIBS_$(1))
endef
$(foreach t,$(FUZZ_TARGETS),$(eval $(call fuzz_target,$(t))))

define fuzz_run
	@mkdir -p $(BUILD)/fuzz/corpus-$(1)
	$(BUILD)/fuzz/fuzz_$(1) -max_total_time=$(FUZZ_TIME) -max_len=$(or $(FUZZ_MAXLEN_$(1)),20000) \
		-timeout=10 -rss_limit_mb=2048 -artifact_prefix=$(BUILD)/fuzz/$(1)- -print_final_stats=1 \
		$(BUILD)/fuzz/corpus-$(1) $(or $(FUZZ_SEEDS_$(1)),$(wildcard tests/fuzz/corpus-$(1)))

endef
fuzz: $(FUZZ_RUN:%=$(BUILD)/fuzz/fuzz_%)
	$(foreach t,$(FUZZ_RUN),$(call fuzz_run,$(t)))

clean:
	rm -rf $(BUILD)/musl $(BUILD)/host $(BUILD)/unit $(BUILD)/helpers $(BUILD)/hfinit $(BUILD)/fuzz
distclean:
	rm -rf $(BUILD)
