# Makefile - builds rbx, its tests, and the demo.
# `make` builds ./rbx; `make check` installs test deps, builds, runs every test;
# `make demo` installs, builds and runs gpu-fault on the lab; SANITIZE=1 adds ASan+UBSan.

PREFIX ?= /usr/local
VERSION := 0.1.0
PKGS := yaml-0.1 jansson libssh libcurl

CC ?= cc
WARN := -Wall -Wextra -Wshadow -Wformat=2 -Wstrict-prototypes -Wmissing-prototypes \
	-Wwrite-strings -Wvla -fno-common
CFLAGS ?= -O2 -g
CPPFLAGS += -Iinclude -D_FORTIFY_SOURCE=2 -DRBX_VERSION='"$(VERSION)"' \
	-DRBX_SHARE_DIR='"$(PREFIX)/share/rbx"'
ALL_CFLAGS = -std=c11 -D_DEFAULT_SOURCE $(WARN) $(CFLAGS) -fstack-protector-strong \
	$(shell pkg-config --cflags $(PKGS) 2>/dev/null)
LIBS = $(shell pkg-config --libs $(PKGS) 2>/dev/null) -lm -pthread

ifeq ($(SANITIZE),1)
ALL_CFLAGS += -fsanitize=address,undefined -fno-sanitize-recover=all -fno-omit-frame-pointer -O1
LDFLAGS += -fsanitize=address,undefined
BUILD := build/asan
else
BUILD := build/release
endif

CORE := util util_fs utf8 diag schema template runbook runbook_yaml runbook_step runbook_find lint exec_local journal lock http transport \
	inventory fleet exec_ssh exec_ssh_node target sched sched_slurm sched_k8s sched_command lab lab_faults lab_transport lab_sandbox lab_state lab_tools lab_tools_smi lab_tools_smi_ctl lab_tools_sys lab_tools_fabric lab_tools_cluster lab_tools_bmc engine engine_record engine_step report resume
CMDS := cmd_run cmd_plan cmd_lint cmd_list cmd_show cmd_runs cmd_log cmd_graph cmd_lab \
	cmd_docs cmd_nodes cmd_schema cmd_version cmd_resume cmd_roll runner roll
CORE_OBJS := $(CORE:%=$(BUILD)/%.o)
OBJS := $(CORE_OBJS) $(CMDS:%=$(BUILD)/%.o) $(BUILD)/main.o

UNIT_TESTS := $(patsubst tests/unit/%.c,%,$(wildcard tests/unit/test_*.c))
UNIT_BINS := $(UNIT_TESTS:%=$(BUILD)/tests/%)

.PHONY: rbx docs all deps deps-check check unit integration demo install clean docs-check bench

all: rbx

rbx: $(BUILD)/rbx
	@ln -sf $(BUILD)/rbx rbx

$(BUILD)/rbx: $(OBJS)
	$(CC) $(LDFLAGS) -o $@ $^ $(LIBS)

$(BUILD)/%.o: src/%.c $(wildcard include/rbx/*.h) $(wildcard src/*.h) | $(BUILD)
	$(CC) $(CPPFLAGS) $(ALL_CFLAGS) -c -o $@ $<

$(BUILD):
	@mkdir -p $(BUILD)/tests

$(BUILD)/tests/%: tests/unit/%.c $(CORE_OBJS) | $(BUILD)
	$(CC) $(CPPFLAGS) $(ALL_CFLAGS) $(shell pkg-config --cflags cmocka) -o $@ $< \
		$(CORE_OBJS) $(LDFLAGS) $(LIBS) $(shell pkg-config --libs cmocka)

# A test-only LD_PRELOAD library that fails journal writes (t0410).
$(BUILD)/tests/faultinj.so: tests/fault/faultinj.c | $(BUILD)
	$(CC) -std=c11 $(WARN) -O2 -fPIC -shared -o $@ $< -ldl

deps:
	@scripts/deps.sh build

deps-check:
	@scripts/deps.sh check

# make check: dependencies, build, unit tests, integration tests; ends "N passed, N failed".
check: deps-check
	@$(MAKE) --no-print-directory rbx $(UNIT_BINS) $(BUILD)/tests/faultinj.so
	@BUILD=$(BUILD) SANITIZE=$(SANITIZE) tests/run.sh $(UNIT_BINS)

demo: deps
	@$(MAKE) --no-print-directory rbx
	@scripts/demo.sh

install: rbx
	install -d $(DESTDIR)$(PREFIX)/bin $(DESTDIR)$(PREFIX)/share/rbx/runbooks \
		$(DESTDIR)$(PREFIX)/share/man/man1
	install -m 0755 $(BUILD)/rbx $(DESTDIR)$(PREFIX)/bin/rbx
	install -m 0644 runbooks/*.yaml $(DESTDIR)$(PREFIX)/share/rbx/runbooks/
	install -m 0644 docs/rbx.1 $(DESTDIR)$(PREFIX)/share/man/man1/rbx.1

# Regenerate docs/runbooks/ from runbooks/ (t0120 fails when they differ).
docs: rbx
	./rbx docs --out docs/runbooks

bench: rbx
	@scripts/deps.sh bench
	@bench/steps.sh

clean:
	rm -rf build rbx
