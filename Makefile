# egressd: network-egress anomaly detector.
#   make            build/egressd
#   make test       unit + end-to-end tests, on the normal and the ASan/UBSan build
#   make asan       build/asan/egressd and the tests under AddressSanitizer + UBSan
#   make deps       install the Debian 12 packages needed to build and test (apt-get)
#   make check      style checks (include order between pipeline stages)
#   make bench      the performance benchmark against libpcap's floor and the peers

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

build/egressd: $(OBJ)
	$(CC) $(OPT_CFLAGS) -o $@ $^ $(PKG_LIBS) -lm

# The objects that write the version (observer.version, --version) are rebuilt when it
# changes: build/version holds the last one built, rewritten only when it differs.
VERSIONED := main pipeline detect output-flow
$(VERSIONED:%=build/obj/%.o) $(VERSIONED:%=build/asan/obj/%.o): build/version
build/version: FORCE
	@mkdir -p build
	@echo '$(VERSION)' | cmp -s - $@ || echo '$(VERSION)' > $@
FORCE:
.PHONY: FORCE

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

build/obj build/tests build/asan/obj build/asan/tests:
	mkdir -p $@

unit: $(UNIT_BIN)
asan-build: build/asan/egressd $(AUNIT_BIN)

# Every test, on the optimised build and again under ASan/UBSan; one summary line.
test: build/egressd $(UNIT_BIN) build/asan/egressd $(AUNIT_BIN)
	$(PYTHON) tests/run-tests build build/asan

asan: build/asan/egressd $(AUNIT_BIN)
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

# The installed binary finds its rule packs and lists under $(DATADIR) (compiled in).
install: build/egressd
	install -d $(DESTDIR)$(BINDIR) $(DESTDIR)$(DATADIR)/rules/lists $(DESTDIR)$(MANDIR)/man8 \
		$(DESTDIR)$(DOCDIR)
	install -m 0755 build/egressd $(DESTDIR)$(BINDIR)/egressd
	install -m 0644 rules/*.yaml $(DESTDIR)$(DATADIR)/rules/
	install -m 0644 rules/lists/*.txt $(DESTDIR)$(DATADIR)/rules/lists/
	install -m 0644 docs/egressd.8 $(DESTDIR)$(MANDIR)/man8/egressd.8
	install -m 0644 sensor.yaml.example README.md docs/rules.md $(DESTDIR)$(DOCDIR)/
	install -d $(DESTDIR)$(UNITDIR)
	sed 's|@BINDIR@|$(BINDIR)|g' tools/egressd.service.in > $(DESTDIR)$(UNITDIR)/egressd.service
	chmod 0644 $(DESTDIR)$(UNITDIR)/egressd.service

uninstall:
	rm -f $(DESTDIR)$(BINDIR)/egressd $(DESTDIR)$(MANDIR)/man8/egressd.8 \
		$(DESTDIR)$(UNITDIR)/egressd.service
	rm -rf $(DESTDIR)$(DATADIR) $(DESTDIR)$(DOCDIR)

clean:
	rm -rf build

-include $(OBJ:.o=.d) $(AOBJ:.o=.d) $(UNIT_BIN:=.d) $(AUNIT_BIN:=.d)
