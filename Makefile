# hfinit: a static, musl-linked PID 1.
#   make          build/hfinit (static, stripped)
#   make test     format check, C unit tests (ASan/UBSan), integration tests as PID 1
#   make bench    side-by-side benchmark with tini, dumb-init, catatonit
#   make fuzz     libFuzzer: config parser, output lines, JSON escaping, notify datagrams, control requests (not in make test)
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

# pkg-config must find the deps built by scripts/build-deps; an empty answer
# would build without them and fail later with a less clear message.
pkgconf = $(or $(shell $(PKGCONF) $(1) 2>/dev/null || echo PKGCONF-FAILED),PKGCONF-FAILED)
pkg = $(if $(filter PKGCONF-FAILED,$(1)),$(error pkg-config finds no $(PKGS) under $(DEPS)/musl/lib/pkgconfig: run `make deps`),$(1))
# Every object also writes its header dependencies (-MMD -MP), read back below.
DEPFLAGS := -MMD -MP

# The code is built once per toolchain as a library, libhfinit.a: the product
# links it with main.o (musl), the unit tests with their test file (host gcc,
# ASan/UBSan), the fuzz targets with theirs (clang, libFuzzer). Only what a
# program uses is pulled from the archive, so no list of sources per target.

# --- the static binary (musl-gcc) -------------------------------------------
# -fno-pie: the binary is a static non-PIE executable anyway; code made for PIE
# only costs bytes there (4 KB: GOT-relative loads, .data.rel.ro).
MUSL_CFLAGS = $(WARN) $(DEFS) -Os -fno-pie -fno-asynchronous-unwind-tables -ffunction-sections -fdata-sections \
	-isystem $(DEPS)/kheaders $(INC) $(call pkg,$(call pkgconf,--cflags $(PKGS)))
MUSL_LIBS   = $(call pkg,$(call pkgconf,--static --libs $(PKGS)))
MUSL_LIB    := $(BUILD)/musl/libhfinit.a
MUSL_OBJ    := $(LIBSRC:src/%.c=$(BUILD)/musl/%.o)
DEPS_STAMP  := $(DEPS)/.stamp

# --- unit tests (host gcc, ASan/UBSan, cmocka) ---------------------------------
SAN         := -fsanitize=address,undefined -fno-sanitize-recover=all -fno-omit-frame-pointer
HOST_CFLAGS  = $(WARN) $(DEFS) -O1 -g $(SAN) $(INC) \
	$(filter-out -I%,$(call pkg,$(call pkgconf,--cflags inih))) -I$(DEPS)/musl/include
HOST_LIB    := $(BUILD)/host/libhfinit.a
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

.PHONY: all deps test unit integration helpers bench fuzz format check-format check-layers measures clean distclean setup run
all: $(BUILD)/hfinit

# Installs missing Debian packages; a quick no-op when all are there.
setup:
	@scripts/setup-debian

$(DEPS_STAMP): scripts/build-deps | setup
	scripts/build-deps $(DEPS)
	touch $@
deps: $(DEPS_STAMP)

$(BUILD)/musl/%.o: src/%.c $(DEPS_STAMP) Makefile
	@mkdir -p $(@D)
	@echo '  CC      $<'
	@musl-gcc $(MUSL_CFLAGS) $(DEPFLAGS) -c $< -o $@

$(MUSL_LIB): $(MUSL_OBJ)
	@rm -f $@
	@ar rcs $@ $^

# libseccomp's syscall-name table for x86_64 alone, from its own syscalls.csv
# (scripts/gen-seccomp-names), linked ahead of libseccomp.a: its table of 15
# architectures (44 KB) is then never pulled in. Only on an x86_64 build
# machine (the build is native): elsewhere the binary links libseccomp's own
# table, whose native column is the one that machine needs.
SECCOMP_NAMES_O := $(BUILD)/musl/seccomp_names.o
ifeq ($(shell uname -m),x86_64)
SECCOMP_NAMES := $(SECCOMP_NAMES_O)
endif
$(BUILD)/musl/seccomp_names.c: scripts/gen-seccomp-names $(DEPS_STAMP)
	@mkdir -p $(@D)
	@scripts/gen-seccomp-names $(DEPS)/src/libseccomp/src/syscalls.csv $@
$(SECCOMP_NAMES_O): $(BUILD)/musl/seccomp_names.c
	@musl-gcc $(MUSL_CFLAGS) -c $< -o $@

# The budget of the stripped binary (docs/design.md, "Build and tests"); the
# link map says where the bytes go (scripts/size-report).
SIZE_BUDGET := 393216
$(BUILD)/hfinit: $(BUILD)/musl/main.o $(SECCOMP_NAMES) $(MUSL_LIB) $(DEPS_STAMP)
	@musl-gcc -static -no-pie -Wl,--gc-sections -Wl,-Map=$@.map -s -o $@ $(BUILD)/musl/main.o \
		$(SECCOMP_NAMES) $(MUSL_LIB) $(MUSL_LIBS)
	@scripts/size-report $@.map
	@printf 'built %s: %s bytes stripped of %s in the budget (%s)\n' $@ "$$(stat -c %s $@)" \
		$(SIZE_BUDGET) "$$(file -b $@ | cut -d, -f1-5)"

$(BUILD)/host/%.o: src/%.c $(DEPS_STAMP) Makefile
	@mkdir -p $(@D)
	@echo '  CC/san  $<'
	@gcc $(HOST_CFLAGS) $(DEPFLAGS) -c $< -o $@

$(HOST_LIB): $(HOST_OBJ)
	@rm -f $@
	@ar rcs $@ $^

$(BUILD)/unit/%: tests/unit/%.c $(UNIT_SUPPORT) $(HOST_LIB) $(wildcard tests/unit/*.h)
	@mkdir -p $(@D)
	@echo '  LD/san  $@'
	@gcc $(HOST_CFLAGS) -Itests/unit -o $@ $< $(UNIT_SUPPORT) $(HOST_LIB) \
		$(DEPS)/host/lib/libinih.a -lseccomp -lcmocka

$(BUILD)/helpers/%: tests/helpers/%.c $(DEPS_STAMP)
	@mkdir -p $(@D)
	@echo '  HELPER  $@'
	@musl-gcc $(WARN) -O2 -static -isystem $(DEPS)/kheaders -o $@ $<

helpers: $(HELPER_BIN)

# the generated table (above), compiled beside the host's libseccomp
$(BUILD)/unit/test_seccomp_names: $(BUILD)/musl/seccomp_names.c
$(BUILD)/unit/test_seccomp_names: HOST_CFLAGS += -I$(BUILD)/musl

unit: $(UNIT_BIN)
	@set -e; for t in $(UNIT_BIN); do echo "== $$t"; ASAN_OPTIONS=detect_leaks=1 UBSAN_OPTIONS=print_stacktrace=1 $$t; done

integration: $(BUILD)/hfinit $(HELPER_BIN)
	HFINIT_BIN=$(abspath $(BUILD)/hfinit) HFINIT_HELPERS=$(abspath $(BUILD)/helpers) \
		$(PYTEST) -q -p no:cacheprovider tests/integration

check-format: | setup
	clang-format --dry-run -Werror $(SRC) $(HDR) $(wildcard tests/unit/*.[ch] tests/helpers/*.c tests/fuzz/*.c)

format:
	clang-format -i $(SRC) $(HDR) $(wildcard tests/unit/*.[ch] tests/helpers/*.c tests/fuzz/*.c)

# file and function sizes, call cycles inside a file (a report; --check fails on a limit)
measures:
	@scripts/house-measures

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
# FUZZ_TARGETS is tests/fuzz/fuzz_NAME.c linked with the library built by clang for
# fuzzing (coverage-instrumented, ASan/UBSan) and inih, seeded from FUZZ_SEEDS_NAME
# (default tests/fuzz/corpus-NAME when it exists) and run with -max_len=FUZZ_MAXLEN_NAME
# (default 20000); new inputs go to $(BUILD)/fuzz/corpus-NAME, crashes to
# $(BUILD)/fuzz/NAME-crash-*. To add a target: write tests/fuzz/fuzz_NAME.c and append
# NAME to FUZZ_TARGETS. inih is compiled from the same Debian source with the same
# flags; its zero-length VLA (INI_USE_STACK=0) is not ours to fix.
FUZZ_TIME ?= 60
FUZZ_CFLAGS = $(WARN) $(DEFS) -O1 -g -fno-omit-frame-pointer $(INC) -I$(DEPS)/musl/include \
	$(filter-out -I%,$(call pkg,$(call pkgconf,--cflags inih)))
FUZZ_SAN   := -fsanitize=address,undefined -fno-sanitize-recover=all
FUZZ_LIB   := $(BUILD)/fuzz/libhfinit.a
FUZZ_OBJ   := $(LIBSRC:src/%.c=$(BUILD)/fuzz/obj/%.o)

FUZZ_TARGETS := config output json notify jsonread expand ctlmsg
# config: the config parser on arbitrary bytes
FUZZ_SEEDS_config := tests/fuzz/corpus
# output: what services send at run time, through the line splitter and the sink
FUZZ_MAXLEN_output := 65536
# json: the one escaper of every JSON line (round trip)
# notify: the datagrams services send on their notify socket (and the leftover marker scan)
FUZZ_MAXLEN_notify := 4096
# jsonread: the status.json reader of `hfinit status` and `health` (what another process wrote)
# expand: ${VAR} in config values (every form, bounds)
# ctlmsg: the control socket's request lines (what a client sent) and the replies a client reads
FUZZ_MAXLEN_ctlmsg := 8192
FUZZ_RUN ?= $(FUZZ_TARGETS)

$(BUILD)/fuzz/ini.o: $(DEPS_STAMP)
	@mkdir -p $(@D)
	clang $(filter-out -Wall -Wextra -Werror,$(FUZZ_CFLAGS)) \
		-fsanitize=fuzzer-no-link,address,undefined -fno-sanitize=vla-bound \
		-c $(DEPS)/src/inih/ini.c -o $@

$(BUILD)/fuzz/obj/%.o: src/%.c $(DEPS_STAMP) Makefile
	@mkdir -p $(@D)
	@echo '  CC/fuzz $<'
	@clang $(FUZZ_CFLAGS) -fsanitize=fuzzer-no-link $(FUZZ_SAN) $(DEPFLAGS) -c $< -o $@

$(FUZZ_LIB): $(FUZZ_OBJ)
	@rm -f $@
	@ar rcs $@ $^

$(BUILD)/fuzz/fuzz_%: tests/fuzz/fuzz_%.c $(FUZZ_LIB) $(BUILD)/fuzz/ini.o
	@mkdir -p $(@D)
	clang $(FUZZ_CFLAGS) -fsanitize=fuzzer $(FUZZ_SAN) -o $@ $< $(FUZZ_LIB) $(BUILD)/fuzz/ini.o -lseccomp

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

# Header dependencies written by -MMD -MP (absent on the first build).
-include $(wildcard $(BUILD)/musl/*.d $(BUILD)/musl/*/*.d $(BUILD)/host/*.d $(BUILD)/host/*/*.d \
	$(BUILD)/fuzz/obj/*.d $(BUILD)/fuzz/obj/*/*.d)

# --- make install [PREFIX=/usr/local] [DESTDIR=]: the binary and the man pages ----
PREFIX  ?= /usr/local
MANPAGES := man/hfinit.8 man/hfinit.ini.5
.PHONY: install
install: $(BUILD)/hfinit $(MANPAGES)
	install -d $(DESTDIR)$(PREFIX)/bin $(DESTDIR)$(PREFIX)/share/man/man8 \
		$(DESTDIR)$(PREFIX)/share/man/man5
	install -m 0755 $(BUILD)/hfinit $(DESTDIR)$(PREFIX)/bin/hfinit
	install -m 0644 man/hfinit.8 $(DESTDIR)$(PREFIX)/share/man/man8/hfinit.8
	install -m 0644 man/hfinit.ini.5 $(DESTDIR)$(PREFIX)/share/man/man5/hfinit.ini.5
