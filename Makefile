# egressd: network-egress anomaly detector.
#   make            build/egressd
#   make test       unit + end-to-end tests, on the normal and the ASan/UBSan build
#   make asan       build/asan/egressd and the tests under AddressSanitizer + UBSan
#   make deps       install the Debian 12 packages needed to build and test (apt-get)
#   make check      style checks (include order between pipeline stages)
#   make bench      the performance benchmark against libpcap's floor and the peers
#   make fuzz-build the libFuzzer targets (clang-14), build/fuzz/TARGET
#   make fuzz       each fuzz target for FUZZ_SECONDS (default 60) on its corpus
#   make fuzz-replay  every fuzz corpus file and kept crasher once through its target
#   make install    [PREFIX=/usr/local] [DESTDIR=]: binary, rules, man page, unit, docs
#   make uninstall  the same variables: removes what install installed

PKGS      := libpcap yaml-0.1 libmaxminddb hiredis libpsl libcrypto libcap-ng
CC        ?= cc
PYTHON    ?= $(shell test -x /usr/bin/python3 && echo /usr/bin/python3 || echo python3)
PREFIX    ?= /usr/local
DATADIR   ?= $(PREFIX)/share/egressd
VERSION   := $(shell git describe --tags --always --dirty 2>/dev/null || echo 0.1.0)

WARN      := -Wall -Wextra -Werror -Wshadow -Wstrict-prototypes -Wmissing-prototypes \
             -Wformat=2 -Wvla -Wpointer-arith -Wcast-qual -Wundef
PKG_CFLAGS := $(shell pkg-config --cflags $(PKGS) 2>/dev/null)
PKG_LIBS   := $(shell pkg-config --libs $(PKGS) 2>/dev/null) -pthread
BASE_CFLAGS := -std=c11 -D_DEFAULT_SOURCE -pthread -Iinclude $(PKG_CFLAGS) $(WARN) -MMD -MP \
               -DEGRESSD_VERSION='"$(VERSION)"' -DEGRESSD_DATADIR='"$(DATADIR)"'
OPT_CFLAGS  ?= -O2 -g
ASAN_FLAGS  := -O1 -g -fno-omit-frame-pointer -fsanitize=address,undefined \
               -fno-sanitize-recover=undefined

SRC       := $(wildcard sensor/*.c)
LIB_SRC   := $(filter-out sensor/main.c,$(SRC))
UNIT_SRC  := $(wildcard tests/unit/test_*.c)

OBJ       := $(SRC:sensor/%.c=build/obj/%.o)
LIB_OBJ   := $(LIB_SRC:sensor/%.c=build/obj/%.o)
UNIT_BIN  := $(UNIT_SRC:tests/unit/%.c=build/tests/%)
AOBJ      := $(SRC:sensor/%.c=build/asan/obj/%.o)
ALIB_OBJ  := $(LIB_SRC:sensor/%.c=build/asan/obj/%.o)
AUNIT_BIN := $(UNIT_SRC:tests/unit/%.c=build/asan/tests/%)

.PHONY: all test asan asan-build unit check deps clean install uninstall
all: build/egressd

# ---- fuzzing: libFuzzer targets in tests/fuzz/ (see tests/fuzz/README.md) -------------
# The project's sources are compiled again with clang-14 for them (the gcc objects are
# not instrumented for libFuzzer's coverage), into build/fuzz/obj, and archived so each
# target links only what it uses. `make test` and `make asan` build the targets when
# clang-14 is installed (tests/e2e/test_fuzz_corpus.py replays the corpora through
# them); without it that test is skipped and says so.
FUZZ_CC      ?= clang-14
FUZZ_TARGETS := decode tls http dns config rules pipeline
FUZZ_SECONDS ?= 60
FUZZ_JOBS    ?= 2
FUZZ_SAN     := -fsanitize=address,undefined -fno-sanitize-recover=undefined
FUZZ_CFLAGS  := -O1 -g -fno-omit-frame-pointer $(FUZZ_SAN)
FOBJ         := $(LIB_SRC:sensor/%.c=build/fuzz/obj/%.o)
FUZZ_BIN     := $(FUZZ_TARGETS:%=build/fuzz/%)
FUZZ_TEST_BIN := $(if $(shell command -v $(FUZZ_CC) 2>/dev/null),$(FUZZ_BIN))

build/egressd: $(OBJ)
	$(CC) $(OPT_CFLAGS) -o $@ $^ $(PKG_LIBS) -lm

# The objects that write the version (observer.version, --version) are rebuilt when it
# changes: build/version holds the last one built, rewritten only when it differs.
VERSIONED := main pipeline detect output-flow
$(VERSIONED:%=build/obj/%.o) $(VERSIONED:%=build/asan/obj/%.o) $(VERSIONED:%=build/fuzz/obj/%.o): build/version
build/version: FORCE
	@mkdir -p build
	@echo '$(VERSION)' | cmp -s - $@ || echo '$(VERSION)' > $@
FORCE:
.PHONY: FORCE

# The objects that compile in the data directory (-DEGRESSD_DATADIR: where the installed
# binary finds its rule packs and lists) are rebuilt when it changes, so that `make` then
# `make install PREFIX=/usr` installs a binary that looks in /usr/share/egressd:
# build/datadir holds the last one built, rewritten only when it differs.
DATADIR_USERS := $(patsubst sensor/%.c,%,$(shell grep -l EGRESSD_DATADIR $(SRC) 2>/dev/null))
$(DATADIR_USERS:%=build/obj/%.o) $(DATADIR_USERS:%=build/asan/obj/%.o) $(DATADIR_USERS:%=build/fuzz/obj/%.o): build/datadir
build/datadir: FORCE
	@mkdir -p build
	@echo '$(DATADIR)' | cmp -s - $@ || echo '$(DATADIR)' > $@

build/obj/%.o: sensor/%.c | build/obj
	$(CC) $(BASE_CFLAGS) $(OPT_CFLAGS) -c -o $@ $<

build/tests/%: tests/unit/%.c $(LIB_OBJ) | build/tests
	$(CC) $(BASE_CFLAGS) $(OPT_CFLAGS) -Itests/unit -o $@ $< $(LIB_OBJ) $(PKG_LIBS) -lcmocka -lm

build/asan/egressd: $(AOBJ)
	$(CC) $(ASAN_FLAGS) -o $@ $^ $(PKG_LIBS) -lm

build/asan/obj/%.o: sensor/%.c | build/asan/obj
	$(CC) $(BASE_CFLAGS) $(ASAN_FLAGS) -c -o $@ $<

build/asan/tests/%: tests/unit/%.c $(ALIB_OBJ) | build/asan/tests
	$(CC) $(BASE_CFLAGS) $(ASAN_FLAGS) -Itests/unit -o $@ $< $(ALIB_OBJ) $(PKG_LIBS) -lcmocka -lm

build/fuzz/obj/%.o: sensor/%.c | build/fuzz/obj
	$(FUZZ_CC) $(BASE_CFLAGS) $(FUZZ_CFLAGS) -fsanitize=fuzzer-no-link -c -o $@ $<

build/fuzz/libegressd.a: $(FOBJ)
	rm -f $@
	ar rcs $@ $^

$(FUZZ_BIN): build/fuzz/%: tests/fuzz/%.c tests/fuzz/fuzz.h build/fuzz/libegressd.a
	$(FUZZ_CC) $(BASE_CFLAGS) $(FUZZ_CFLAGS) -fsanitize=fuzzer -Itests/fuzz -o $@ $< \
		build/fuzz/libegressd.a $(PKG_LIBS) -lm

build/obj build/tests build/asan/obj build/asan/tests build/fuzz/obj:
	mkdir -p $@

.PHONY: fuzz fuzz-build fuzz-replay fuzz-merge
fuzz-build: $(FUZZ_BIN)

# Each target for FUZZ_SECONDS in FUZZ_JOBS parallel jobs (the machine's two cores),
# starting from its kept corpus and crashers; new inputs go to build/fuzz/new/TARGET (not
# the repository), crash/leak/timeout inputs to build/fuzz/artifacts/TARGET, each job's
# log to build/fuzz/logs/TARGET/fuzz-N.log. Fails if any job found anything.
fuzz: $(FUZZ_BIN)
	@fail=""; for t in $(FUZZ_TARGETS); do \
		d=$(CURDIR)/build/fuzz; \
		rm -rf $$d/logs/$$t; mkdir -p $$d/new/$$t $$d/artifacts/$$t $$d/logs/$$t; \
		echo "fuzz: $$t for $(FUZZ_SECONDS)s, $(FUZZ_JOBS) jobs"; \
		if ! (cd $$d/logs/$$t && $$d/$$t -jobs=$(FUZZ_JOBS) -workers=$(FUZZ_JOBS) \
			-max_total_time=$(FUZZ_SECONDS) -rss_limit_mb=2048 -timeout=10 \
			-print_final_stats=1 -artifact_prefix=$$d/artifacts/$$t/ \
			$$d/new/$$t $(CURDIR)/tests/fuzz/corpus/$$t \
			$$(test -d tests/fuzz/crashers/$$t && echo $(CURDIR)/tests/fuzz/crashers/$$t) \
			>$$d/logs/$$t/jobs.log 2>&1); then \
			fail="$$fail $$t"; tail -n 40 $$d/logs/$$t/fuzz-*.log; \
		fi; \
		grep -h "stat::number_of_executed_units" $$d/logs/$$t/fuzz-*.log | \
			awk -v t=$$t '{ n += $$2 } END { print "fuzz: " t ": " n " runs" }'; \
	done; \
	if [ -n "$$fail" ]; then \
		echo "fuzz: FAILED:$$fail (inputs in build/fuzz/artifacts/, logs in build/fuzz/logs/)"; \
		exit 1; \
	fi

# The kept corpus made again, minimal: what -merge=1 keeps of it, of the inputs `make fuzz`
# found (build/fuzz/new) and of the seeds of tools/fuzz-seeds (build/fuzz/seeds, if
# made). Replaces tests/fuzz/corpus/TARGET; review the change before committing it.
# The targets with large inputs keep only what reaches new edges (-use_counters=0; with
# hit counts their corpora were 4 times larger), the others what reaches new hit counts.
FUZZ_EDGES_ONLY := config rules pipeline
fuzz-merge: $(FUZZ_BIN)
	@for t in $(FUZZ_TARGETS); do \
		d=build/fuzz; rm -rf $$d/merge/$$t; mkdir -p $$d/merge/$$t tests/fuzz/corpus/$$t; \
		$$d/$$t -merge=1 -rss_limit_mb=2048 -timeout=10 \
			$$(case " $(FUZZ_EDGES_ONLY) " in *" $$t "*) echo -use_counters=0;; esac) \
			$$d/merge/$$t tests/fuzz/corpus/$$t \
			$$(for x in new seeds; do test -d $$d/$$x/$$t && echo $$d/$$x/$$t; done) \
			>$$d/merge-$$t.log 2>&1 || { tail -n 40 $$d/merge-$$t.log; exit 1; }; \
		rm -rf tests/fuzz/corpus/$$t; mv $$d/merge/$$t tests/fuzz/corpus/$$t; \
		echo "fuzz-merge: $$t: $$(ls tests/fuzz/corpus/$$t | wc -l) files," \
			"$$(du -sk --apparent-size tests/fuzz/corpus/$$t | cut -f1) KiB"; \
	done

# Every kept corpus file and crasher once through its target (the same check as
# tests/e2e/test_fuzz_corpus.py, without pytest).
fuzz-replay: $(FUZZ_BIN)
	@for t in $(FUZZ_TARGETS); do \
		files=$$(find tests/fuzz/corpus/$$t tests/fuzz/crashers/$$t -type f 2>/dev/null); \
		[ -n "$$files" ] || continue; \
		echo "fuzz-replay: $$t: $$(echo "$$files" | wc -l) inputs"; \
		echo "$$files" | xargs build/fuzz/$$t >build/fuzz/replay-$$t.log 2>&1 || \
			{ tail -n 40 build/fuzz/replay-$$t.log; exit 1; }; \
	done

unit: $(UNIT_BIN)
asan-build: build/asan/egressd $(AUNIT_BIN)

# Every test, on the optimised build and again under ASan/UBSan; one summary line.
test: build/egressd $(UNIT_BIN) build/asan/egressd $(AUNIT_BIN) $(FUZZ_TEST_BIN)
	$(PYTHON) tests/run-tests build build/asan

asan: build/asan/egressd $(AUNIT_BIN) $(FUZZ_TEST_BIN)
	$(PYTHON) tests/run-tests build/asan

check:
	tools/check-includes

# Performance benchmark: floor, egressd and the installed peers on three generated
# captures (cached in build/bench); targets and figures in tests/bench/README.md.
.PHONY: bench
bench: build/egressd build/bench/floor
	$(PYTHON) tests/bench/run-bench

build/bench/floor: tests/bench/floor.c
	@mkdir -p build/bench
	$(CC) -std=c11 -O2 -Wall -Wextra -Werror -o $@ $< $(shell pkg-config --cflags --libs libpcap)

deps:
	tools/install-deps

BINDIR  ?= $(PREFIX)/bin
MANDIR  ?= $(PREFIX)/share/man
DOCDIR  ?= $(PREFIX)/share/doc/egressd
UNITDIR ?= $(PREFIX)/lib/systemd/system

# make install [PREFIX=/usr/local] [DESTDIR=] installs:
#   $(BINDIR)/egressd                      the binary (rebuilt if DATADIR changed)
#   $(DATADIR)/rules/*.yaml, rules/lists/  the rule packs and category lists, where the
#                                          binary looks for them (DATADIR is compiled in)
#   $(MANDIR)/man8/egressd.8               the man page, with the installed paths
#   $(DOCDIR)/                             sensor.yaml.example, README.md, rules.md
#   $(UNITDIR)/egressd.service             the systemd unit, ExecStart=$(BINDIR)/egressd
# Nothing is written to /etc: copy sensor.yaml.example to /etc/egressd/sensor.yaml.
# make uninstall (same PREFIX and DESTDIR) removes exactly these files, then the
# directories egressd owns if they are empty.
RULE_FILES := $(notdir $(wildcard rules/*.yaml))
LIST_FILES := $(notdir $(wildcard rules/lists/*.txt))
DOC_FILES  := sensor.yaml.example README.md rules.md
MAN_PATHS  := -e 's|/usr/local/share/egressd|$(DATADIR)|g' \
              -e 's|/usr/local/share/doc/egressd|$(DOCDIR)|g' \
              -e 's|/usr/local/lib/systemd/system|$(UNITDIR)|g' \
              -e 's|/usr/local/bin|$(BINDIR)|g'

install: build/egressd
	install -d -m 0755 $(DESTDIR)$(BINDIR) $(DESTDIR)$(DATADIR)/rules/lists \
		$(DESTDIR)$(MANDIR)/man8 $(DESTDIR)$(DOCDIR) $(DESTDIR)$(UNITDIR)
	install -m 0755 build/egressd $(DESTDIR)$(BINDIR)/egressd
	install -m 0644 $(RULE_FILES:%=rules/%) $(DESTDIR)$(DATADIR)/rules/
	install -m 0644 $(LIST_FILES:%=rules/lists/%) $(DESTDIR)$(DATADIR)/rules/lists/
	sed $(MAN_PATHS) docs/egressd.8 > build/egressd.8
	install -m 0644 build/egressd.8 $(DESTDIR)$(MANDIR)/man8/egressd.8
	install -m 0644 sensor.yaml.example README.md docs/rules.md $(DESTDIR)$(DOCDIR)/
	sed 's|@BINDIR@|$(BINDIR)|g' tools/egressd.service.in > build/egressd.service
	install -m 0644 build/egressd.service $(DESTDIR)$(UNITDIR)/egressd.service

uninstall:
	rm -f $(DESTDIR)$(BINDIR)/egressd $(DESTDIR)$(MANDIR)/man8/egressd.8 \
		$(DESTDIR)$(UNITDIR)/egressd.service \
		$(RULE_FILES:%=$(DESTDIR)$(DATADIR)/rules/%) \
		$(LIST_FILES:%=$(DESTDIR)$(DATADIR)/rules/lists/%) \
		$(DOC_FILES:%=$(DESTDIR)$(DOCDIR)/%)
	rmdir $(DESTDIR)$(DATADIR)/rules/lists $(DESTDIR)$(DATADIR)/rules $(DESTDIR)$(DATADIR) \
		$(DESTDIR)$(DOCDIR) 2>/dev/null || true

clean:
	rm -rf build

-include $(OBJ:.o=.d) $(AOBJ:.o=.d) $(UNIT_BIN:=.d) $(AUNIT_BIN:=.d) $(FOBJ:.o=.d) $(FUZZ_BIN:=.d)
