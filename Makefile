# Makefile - builds rbx, its tests, and the demo.
# `make` builds ./rbx; `make check` installs test deps, builds, runs every test;
# `make demo` installs, builds and runs gpu-fault on the lab; SANITIZE=1 adds ASan+UBSan.

PREFIX ?= /usr/local
VERSION := 0.1.0
PKGS := yaml-0.1 jansson libssh libcurl libmicrohttpd gnutls

CC ?= cc
WARN := -Wall -Wextra -Wshadow -Wformat=2 -Wstrict-prototypes -Wmissing-prototypes \
	-Wwrite-strings -Wvla -fno-common
ifeq ($(WERROR),1)
WARN += -Werror
endif
CFLAGS ?= -O2 -g
CPPFLAGS += -Isrc -D_FORTIFY_SOURCE=2 -DRBX_VERSION='"$(VERSION)"' \
	-DRBX_SHARE_DIR='"$(PREFIX)/share/rbx"'

# pkg-config failing must stop the build here, with its own message, rather than
# surface later as a missing header.
PKG_CFLAGS := $(shell pkg-config --cflags $(PKGS) || echo PKGFAIL)
PKG_LIBS := $(shell pkg-config --libs $(PKGS) || echo PKGFAIL)
ifneq ($(findstring PKGFAIL,$(PKG_CFLAGS) $(PKG_LIBS)),)
$(error pkg-config cannot find all of: $(PKGS); run `scripts/deps.sh build` (Debian: libyaml-dev libjansson-dev libssh-dev libcurl4-openssl-dev libmicrohttpd-dev libgnutls28-dev))
endif

ALL_CFLAGS = -std=c11 -D_DEFAULT_SOURCE $(WARN) $(CFLAGS) -fstack-protector-strong $(PKG_CFLAGS)
LIBS = $(PKG_LIBS) -lm -pthread

ifeq ($(FUZZ),1)
# libFuzzer builds (clang): the library instrumented, each harness linked with the fuzzer.
ALL_CFLAGS += -fsanitize=fuzzer-no-link,address,undefined -fno-sanitize-recover=all \
	-fno-omit-frame-pointer -O1
LDFLAGS += -fsanitize=fuzzer,address,undefined
BUILD := build/fuzz
else ifeq ($(SANITIZE),1)
ALL_CFLAGS += -fsanitize=address,undefined -fno-sanitize-recover=all -fno-omit-frame-pointer -O1
LDFLAGS += -fsanitize=address,undefined
BUILD := build/asan
else
BUILD := build/release
endif

# The layers, bottom up; a file uses only its own layer and those listed before it
# (tests/integration/t0005-layers.sh checks). docs/architecture.md draws them.
BASE := base/util base/util_fs base/utf8 base/diag
IO := io/journal io/lock io/http io/fleet io/ydoc io/alertmanager
BACKENDS := backends/transport backends/exec_local backends/exec_ssh backends/exec_ssh_node \
	backends/sched backends/sched_slurm backends/sched_k8s backends/sched_command \
	backends/sched_file backends/registry
CORE := core/model core/when core/schema core/schema_json core/hostlist core/template core/runbook core/runbook_yaml core/runbook_step core/runbook_rules core/rules core/alert \
	core/runbook_find core/lint core/inventory core/engine core/engine_silence core/engine_record \
	core/engine_step core/resume core/plan core/reading
LAB := lab/lab lab/lab_faults lab/lab_faults_cluster lab/lab_transport lab/lab_sim lab/lab_tools_stub lab/lab_sandbox lab/lab_state lab/lab_tools \
	lab/lab_tools_smi lab/lab_tools_smi_ctl lab/lab_tools_sys lab/lab_tools_kube lab/lab_tools_apt lab/lab_tools_proc lab/lab_tools_pci lab/lab_tools_fabric \
	lab/lab_tools_cluster lab/lab_tools_bmc lab/lab_tools_util lab/lab_backend
APP := app/ui app/target app/runner app/roll app/plan app/alerts app/serve app/serve_pages app/serve_metrics app/serve_incidents app/serve_auto app/serve_runs app/serve_journal app/scenario app/test_run app/test_check app/test_cover
CLI := cli/args cli/registry cli/term cli/report cli/cmd_run cli/cmd_plan cli/cmd_lint cli/cmd_list cli/cmd_show \
	cli/cmd_runs cli/cmd_log cli/cmd_graph cli/cmd_lab cli/cmd_docs cli/cmd_nodes \
	cli/cmd_schema cli/cmd_rules cli/cmd_alert cli/cmd_serve cli/cmd_test cli/test_report cli/lint_report cli/cmd_completion cli/cmd_version cli/cmd_resume cli/cmd_roll cli/main

# Files whose test hooks (RBX_TEST_HOOKS) are compiled only into rbx-test, the
# binary the crash and fault tests drive; ./rbx carries none.
HOOKED := io/journal lab/lab_transport

LIB_SRCS := $(BASE) $(IO) $(BACKENDS) $(CORE) $(LAB) $(APP)
LIB_OBJS := $(LIB_SRCS:%=$(BUILD)/%.o)
OBJS := $(LIB_OBJS) $(CLI:%=$(BUILD)/%.o)
TEST_OBJS := $(filter-out $(HOOKED:%=$(BUILD)/%.o),$(OBJS)) $(HOOKED:%=$(BUILD)/hooks/%.o)

UNIT_TESTS := $(patsubst tests/unit/%.c,%,$(wildcard tests/unit/test_*.c))
UNIT_BINS := $(UNIT_TESTS:%=$(BUILD)/tests/%)
FUZZERS := $(patsubst tests/fuzz/fuzz_%.c,%,$(filter-out tests/fuzz/fuzz_common.c,$(wildcard tests/fuzz/fuzz_*.c)))
FUZZ_BINS := $(FUZZERS:%=build/fuzz/fuzz_%)
FUZZ_SECONDS ?= 10

.PHONY: rbx all deps deps-check check demo install uninstall clean docs bench fuzz fuzz-build
.DELETE_ON_ERROR:

all: rbx

rbx: $(BUILD)/rbx
	@ln -sf $(BUILD)/rbx rbx

$(BUILD)/rbx: $(OBJS)
	$(CC) $(LDFLAGS) -o $@ $^ $(LIBS)

$(BUILD)/rbx-test: $(TEST_OBJS)
	$(CC) $(LDFLAGS) -o $@ $^ $(LIBS)

$(BUILD)/hooks/%.o: src/%.c
	@mkdir -p $(@D)
	$(CC) $(CPPFLAGS) -DRBX_TEST_HOOKS $(ALL_CFLAGS) -MMD -MP -c -o $@ $<

$(BUILD)/%.o: src/%.c
	@mkdir -p $(@D)
	$(CC) $(CPPFLAGS) $(ALL_CFLAGS) -MMD -MP -c -o $@ $<

# Unit tests link the test-hook objects: a test build, never shipped.
$(BUILD)/tests/%: tests/unit/%.c $(filter-out $(HOOKED:%=$(BUILD)/%.o),$(LIB_OBJS)) \
		$(HOOKED:%=$(BUILD)/hooks/%.o)
	@mkdir -p $(@D)
	$(CC) $(CPPFLAGS) $(ALL_CFLAGS) $(shell pkg-config --cflags cmocka) -MMD -MP -o $@ $< \
		$(filter %.o,$^) $(LDFLAGS) $(LIBS) $(shell pkg-config --libs cmocka)

# A test-only reader of step output with the engine's own regexes (the conformance test).
$(BUILD)/tests/rbx-rx: tests/tools/rbx_rx.c $(filter-out $(HOOKED:%=$(BUILD)/%.o),$(LIB_OBJS)) \
		$(HOOKED:%=$(BUILD)/hooks/%.o)
	@mkdir -p $(@D)
	$(CC) $(CPPFLAGS) $(ALL_CFLAGS) -MMD -MP -o $@ $< $(filter %.o,$^) $(LDFLAGS) $(LIBS)

# The quoting proof's driver (t0810): values through the shell templates and a real shell.
$(BUILD)/tests/quoteproof: tests/tools/quoteproof.c $(filter-out $(HOOKED:%=$(BUILD)/%.o),$(LIB_OBJS)) \
		$(HOOKED:%=$(BUILD)/hooks/%.o)
	@mkdir -p $(@D)
	$(CC) $(CPPFLAGS) $(ALL_CFLAGS) -MMD -MP -o $@ $< $(filter %.o,$^) $(LDFLAGS) $(LIBS)

# A test-only LD_PRELOAD library that fails journal writes (t0415).
$(BUILD)/tests/faultinj.so: tests/fault/faultinj.c
	@mkdir -p $(@D)
	$(CC) -std=c11 $(WARN) -O2 -fPIC -shared -o $@ $< -ldl

# The fuzz harnesses (tests/fuzz/, clang's libFuzzer): `make fuzz FUZZ_SECONDS=N` runs each
# for N seconds over its corpus, after replaying every input kept from a crash.
build/fuzz/fuzz_%: tests/fuzz/fuzz_%.c tests/fuzz/fuzz_common.c $(LIB_OBJS)
	@mkdir -p $(@D)
	$(CC) $(CPPFLAGS) -Itests/fuzz $(ALL_CFLAGS) -MMD -MP -o $@ $< tests/fuzz/fuzz_common.c \
		$(LIB_OBJS) $(LDFLAGS) $(LIBS)

fuzz-build:
	@$(MAKE) --no-print-directory FUZZ=1 CC=clang $(FUZZ_BINS)

fuzz: fuzz-build
	@FUZZ_SECONDS=$(FUZZ_SECONDS) tests/fuzz/run.sh $(FUZZERS)

-include $(FUZZ_BINS:=.d)
-include $(OBJS:.o=.d) $(HOOKED:%=$(BUILD)/hooks/%.d) $(UNIT_BINS:=.d) $(BUILD)/tests/rbx-rx.d $(BUILD)/tests/quoteproof.d

deps:
	@scripts/deps.sh build

deps-check:
	@scripts/deps.sh check

# make check: dependencies, build, unit tests, integration tests; ends "N passed, N failed".
check: deps-check
	@$(MAKE) --no-print-directory rbx $(BUILD)/rbx-test $(UNIT_BINS) $(BUILD)/tests/faultinj.so \
		$(BUILD)/tests/rbx-rx $(BUILD)/tests/quoteproof
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

uninstall:
	rm -f $(DESTDIR)$(PREFIX)/bin/rbx $(DESTDIR)$(PREFIX)/share/man/man1/rbx.1
	rm -f $(patsubst runbooks/%,$(DESTDIR)$(PREFIX)/share/rbx/runbooks/%,$(wildcard runbooks/*.yaml))
	-rmdir $(DESTDIR)$(PREFIX)/share/rbx/runbooks $(DESTDIR)$(PREFIX)/share/rbx

# Regenerate docs/runbooks/ from runbooks/ (t0120 fails when they differ).
# The pages, and real-output.md: each runbook step's reading of the real captures.
# Where the committed rule file links its alerts (regenerate with your rbx serve's URL).
RULES_BASE_URL ?= http://rbx.example:9095

docs: rbx $(BUILD)/tests/rbx-rx
	RBX_RUNBOOKS=$(CURDIR)/runbooks python3 tests/tools/conformance.py ./rbx $(BUILD)/tests/rbx-rx \
		tests/fixtures/real/index.json --markdown docs/runbooks/real-output.md
	./rbx docs --out docs/runbooks
	./rbx schema --format json-schema > docs/runbook.schema.json
	mkdir -p docs/alerts
	./rbx rules --base-url $(RULES_BASE_URL) > docs/alerts/rbx-rules.yml
	./rbx rules --base-url $(RULES_BASE_URL) --tests rbx-rules.yml > docs/alerts/rbx-rules.test.yml

bench: rbx
	@scripts/deps.sh bench
	@bench/steps.sh

clean:
	rm -rf build rbx
