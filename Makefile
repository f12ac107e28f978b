# Makefile - build, test, install lda.
#   make                 build build/lda (lda/ is the source directory)
#   make check           build and run every test under prove (as root, in
#                        a private /var/mail: tests/spool-guard.sh)
#   make check SANITIZE=1  the same with ASan+UBSan (objects under build-san/)
#   make demo            deliver the bundled sample messages into demo/Maildir
#   make bench           run the benchmarks under tests/bench/ (slow, not a test)
#   make fuzz            the libFuzzer campaign (clang): FUZZ_TIME s per harness
#   make install         PREFIX (/usr/local), DESTDIR, SYSCONFDIR (/etc);
#                        the paths are compiled in: a new PREFIX rebuilds
#   make uninstall       remove what install put there (same variables)
#   make deps            install the Debian packages the build and tests need
# Sources are found by wildcard: a new module in lda/, rc/ or filters/, a
# new tests/unit/*.c or tests/integration/*.t needs no change here.

PREFIX     ?= /usr/local
BINDIR     ?= $(PREFIX)/bin
MANDIR     ?= $(PREFIX)/share/man
DOCDIR     ?= $(PREFIX)/share/doc/lda
SYSCONFDIR ?= /etc
LIBDIR     ?= $(PREFIX)/lib
MODDIR     ?= $(LIBDIR)/lda
VERSION    := 0.1.0

ifeq ($(SANITIZE),1)
BUILD      ?= build-san
SANFLAGS   := -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=all
else ifeq ($(SANITIZE),fuzz)
# make fuzz: clang's libFuzzer drives the harnesses of tests/fuzz/
BUILD      ?= build-fuzz
CC         := clang
SANFLAGS   := -fsanitize=address,undefined,fuzzer-no-link -fno-omit-frame-pointer -fno-sanitize-recover=all
FUZZ_FLAGS := -DLDA_LIBFUZZER -fsanitize=fuzzer
else
BUILD      ?= build
SANFLAGS   :=
endif
LDA        ?= $(BUILD)/lda
VERIFY     := $(BUILD)/lda-verify

CC         ?= cc
WERROR     := $(if $(CI),-Werror,)
# CFLAGS, CPPFLAGS and LDFLAGS are the builder's (make CFLAGS=-Os works);
# what lda itself needs is in LDA_CFLAGS, always passed before them.
CFLAGS     ?= -O2 -g
LDA_CFLAGS := -std=c11 -D_GNU_SOURCE -Wall -Wextra $(WERROR) $(SANFLAGS) \
              -DLDA_VERSION='"$(VERSION)"' -DSYSCONFDIR='"$(SYSCONFDIR)"' \
              -DMODDIR='"$(MODDIR)"'
PKGS       := tre libsasl2
PKG_CFLAGS := $(shell pkg-config --cflags $(PKGS) 2>/dev/null)
LDA_CFLAGS += $(PKG_CFLAGS)
# lda links libc alone: every linked library costs each start (one per
# message). libsasl2, TRE and libm are opened when a message first needs
# them (lda/dl.h), by the sonames of the libraries it was built against.
soname      = $(shell objdump -p "$$($(CC) -print-file-name=$(1))" 2>/dev/null | awk '/SONAME/ { print $$2 }')
dl_define   = $(if $(2),-D$(1)='"$(2)"')
SONAMES    := $(call dl_define,SASL_SONAME,$(call soname,libsasl2.so)) \
              $(call dl_define,TRE_SONAME,$(call soname,libtre.so)) \
              $(call dl_define,LIBM_SONAME,$(call soname,libm.so.6))
LDA_CFLAGS += $(SONAMES)
# libssl for STARTTLS to a TCP store (lda/tls.c), opened the same way
LDA_CFLAGS += $(call dl_define,SSL_SONAME,$(call soname,libssl.so))
ALL_CFLAGS  = $(LDA_CFLAGS) $(CPPFLAGS) $(CFLAGS)
ALL_LDFLAGS = $(SANFLAGS) $(LDFLAGS)

SRCS       := $(wildcard lda/*.c rc/*.c filters/*.c)
OBJS       := $(SRCS:%.c=$(BUILD)/obj/%.o)
LIBOBJS    := $(filter-out $(BUILD)/obj/lda/main.o,$(OBJS))
# lda-verify (verify/): a second program on lda's modules (never the
# other way round: nothing under lda/ includes verify/)
VERIFY_OBJS := $(patsubst %.c,$(BUILD)/obj/%.o,$(wildcard verify/*.c))
UNIT_SRCS  := $(wildcard tests/unit/*.c)
UNIT_TESTS := $(UNIT_SRCS:%.c=$(BUILD)/%.t)
INTEG      := $(wildcard tests/integration/*.t) $(wildcard tests/faults/*.t) \
              $(wildcard tests/security/*.t)
# The fault tests' LD_PRELOAD shim (tests/faults/shim.c), not sanitized:
# it is preloaded into the binary under test.
SHIM       := $(BUILD)/tests/faults/shim.so
# Fuzz harnesses (random inputs standalone; libFuzzer with -DLDA_LIBFUZZER),
# run briefly by tests/integration/fuzz.t, each with its seed corpus
# tests/fuzz/corpus/NAME/. They link the objects from an archive, so a
# harness may include a source file to reach its static parsers.
FUZZ_SRCS  := $(wildcard tests/fuzz/*.c)
FUZZ       := $(FUZZ_SRCS:%.c=$(BUILD)/%)
FUZZ_TIME  ?= 60
# Filters that bring heavy libraries are modules, never linked into lda:
# filters/modules/NAME.c -> $(BUILD)/modules/NAME.so, installed in MODDIR,
# loaded on first use from MODULE_PATH (an rc variable, default MODDIR).
MOD_SRCS   := $(wildcard filters/modules/*.c)
MODS       := $(MOD_SRCS:filters/modules/%.c=$(BUILD)/modules/%.so)
MODLIBS_clamav := -lclamav
MODLIBS_spf    := -lspf2

.PHONY: all check demo bench install uninstall deps clean FORCE
all: $(LDA) $(VERIFY) $(MODS)

# The paths compiled into lda (the system rc, the module directory) are
# recorded in $(BUILD)/paths, rewritten only when they change: every
# object depends on it, so `make install PREFIX=/usr` after a plain
# `make` rebuilds lda with the paths it is installed under.
PATHS      := $(BUILD)/paths
$(PATHS): FORCE
	@mkdir -p $(dir $@)
	@printf 'VERSION=%s\nSYSCONFDIR=%s\nMODDIR=%s\n' '$(VERSION)' \
	    '$(SYSCONFDIR)' '$(MODDIR)' >$@.new
	@if cmp -s $@.new $@; then rm -f $@.new; else mv -f $@.new $@; fi
FORCE:
$(OBJS): $(PATHS)

$(LDA): $(OBJS)
	$(CC) $(ALL_LDFLAGS) -o $@ $(OBJS) $(LDLIBS)

$(VERIFY): $(VERIFY_OBJS) $(LIBOBJS)
	$(CC) $(ALL_LDFLAGS) -o $@ $(VERIFY_OBJS) $(LIBOBJS) $(LDLIBS)

$(BUILD)/obj/%.o: %.c
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) -MMD -MP -c -o $@ $<

$(BUILD)/tests/unit/%.t: tests/unit/%.c $(LIBOBJS)
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) -Wno-missing-field-initializers -MMD -MP -Ilda -Irc -Ifilters -Itests -o $@ $< $(LIBOBJS) $(ALL_LDFLAGS) $(LDLIBS)

$(BUILD)/libtest.a: $(LIBOBJS)
	rm -f $@ && ar rcs $@ $(LIBOBJS)

$(BUILD)/tests/fuzz/%: tests/fuzz/%.c $(BUILD)/libtest.a
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) $(FUZZ_FLAGS) -MMD -MP -Ilda -Irc -Ifilters -o $@ $< $(BUILD)/libtest.a $(ALL_LDFLAGS) $(LDLIBS)

$(SHIM): tests/faults/shim.c
	@mkdir -p $(dir $@)
	$(CC) -std=c11 -O2 -Wall -Wextra $(WERROR) -fPIC -shared -o $@ $< -ldl

$(BUILD)/modules/%.so: filters/modules/%.c
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) -fPIC -shared -MMD -MP -o $@ $< $(ALL_LDFLAGS) $(MODLIBS_$*)

-include $(OBJS:.o=.d) $(VERIFY_OBJS:.o=.d) $(UNIT_TESTS:.t=.d) $(MODS:.so=.d) $(FUZZ:=.d)

# Integration tests find the binary and the build tree through the
# environment; they run in their own temporary directories.
check: $(LDA) $(VERIFY) $(MODS) $(UNIT_TESTS) $(FUZZ) $(SHIM)
	LDA_BIN=$(abspath $(LDA)) LDA_TOP=$(CURDIR) LDA_BUILD=$(abspath $(BUILD)) \
	    sh tests/spool-guard.sh prove $(PROVEFLAGS) $(UNIT_TESTS) $(INTEG)

# make fuzz: every harness under libFuzzer for FUZZ_TIME seconds (60),
# one after the other, from its seed corpus (new inputs go to
# build-fuzz/corpus/NAME, crashes to build-fuzz/crash-NAME-*). Needs clang.
fuzz:
	$(MAKE) SANITIZE=fuzz fuzz-run

fuzz-run: $(FUZZ)
	@for h in $(FUZZ); do n=$$(basename $$h); \
	    mkdir -p $(BUILD)/corpus/$$n tests/fuzz/corpus/$$n; \
	    echo "== $$n: $(FUZZ_TIME) s"; \
	    $$h -max_total_time=$(FUZZ_TIME) -timeout=10 -rss_limit_mb=2048 \
	        -artifact_prefix=$(abspath $(BUILD))/crash-$$n- -print_final_stats=1 \
	        $(abspath $(BUILD))/corpus/$$n $(CURDIR)/tests/fuzz/corpus/$$n \
	        2>$(BUILD)/$$n.log || \
	        { tail -n 30 $(BUILD)/$$n.log; exit 1; }; \
	    grep -E '^stat::(number_of_executed_units|new_units_added)' $(BUILD)/$$n.log; \
	done

demo: $(LDA)
	@sh tests/demo.sh $(abspath $(LDA))

bench: $(LDA)
	@for b in tests/bench/*.sh; do bash $$b $(abspath $(LDA)) || exit 75; done

# The system rc that install creates when there is none holds comments
# only: no recipe, no setting, so users' ~/.procmailrc files deliver as
# under procmail. lda.rc.example is documentation (DOCDIR).
$(BUILD)/lda.rc: $(PATHS)
	@printf '%s\n' \
	    '# $(SYSCONFDIR)/lda.rc - the system rc of lda, run for every message,' \
	    "# as the recipient, before the user's ~/.ldarc or ~/.procmailrc." \
	    '# See lda.rc(5) for the settings it may hold.' \
	    '#' \
	    '# make install put this file here with no recipe and no setting, so' \
	    "# that users' rc files deliver exactly where procmail delivers." \
	    '# A complete example (a store, filters, site rules) is' \
	    '# $(DOCDIR)/lda.rc.example: copy what you need.' \
	    '# make uninstall removes this file only as long as it is unchanged.' >$@

# the man pages name the paths of this install, not the defaults
MANPATHS    = sed -e 's|/etc/lda\.rc|$(SYSCONFDIR)/lda.rc|g' \
              -e 's|/usr/local/lib/lda|$(MODDIR)|g' \
              -e 's|/usr/local/share/doc/lda|$(DOCDIR)|g' \
              -e 's|/usr/local/bin/lda|$(BINDIR)/lda|g'
INSTALLED   = $(BINDIR)/lda $(BINDIR)/lda-verify $(MANDIR)/man1/lda.1 $(MANDIR)/man5/lda.rc.5 \
              $(DOCDIR)/lda.rc.example $(MODS:$(BUILD)/modules/%=$(MODDIR)/%)
install: $(LDA) $(VERIFY) $(MODS) $(BUILD)/lda.rc
	install -d $(DESTDIR)$(BINDIR) $(DESTDIR)$(MANDIR)/man1 \
	    $(DESTDIR)$(MANDIR)/man5 $(DESTDIR)$(DOCDIR) \
	    $(DESTDIR)$(MODDIR) $(DESTDIR)$(SYSCONFDIR)
	install -m 0755 $(LDA) $(DESTDIR)$(BINDIR)/lda
	install -m 0755 $(VERIFY) $(DESTDIR)$(BINDIR)/lda-verify
	install -m 0644 $(MODS) $(DESTDIR)$(MODDIR)/
	$(MANPATHS) lda.1 >$(BUILD)/lda.1
	$(MANPATHS) lda.rc.5 >$(BUILD)/lda.rc.5
	install -m 0644 $(BUILD)/lda.1 $(DESTDIR)$(MANDIR)/man1/lda.1
	install -m 0644 $(BUILD)/lda.rc.5 $(DESTDIR)$(MANDIR)/man5/lda.rc.5
	install -m 0644 lda.rc.example $(DESTDIR)$(DOCDIR)/lda.rc.example
	[ -e $(DESTDIR)$(SYSCONFDIR)/lda.rc ] || \
	    install -m 0644 $(BUILD)/lda.rc $(DESTDIR)$(SYSCONFDIR)/lda.rc

# uninstall removes the files install put there, and the system rc only
# while it is the one install wrote (an edited one is the admin's: kept,
# and said so); the directories only if empty and lda's own.
uninstall: $(BUILD)/lda.rc
	rm -f $(addprefix $(DESTDIR),$(INSTALLED))
	rmdir $(DESTDIR)$(MODDIR) $(DESTDIR)$(DOCDIR) 2>/dev/null || true
	@if cmp -s $(BUILD)/lda.rc $(DESTDIR)$(SYSCONFDIR)/lda.rc; then \
	    echo rm -f $(DESTDIR)$(SYSCONFDIR)/lda.rc; \
	    rm -f $(DESTDIR)$(SYSCONFDIR)/lda.rc; \
	elif [ -e $(DESTDIR)$(SYSCONFDIR)/lda.rc ]; then \
	    echo "uninstall: $(DESTDIR)$(SYSCONFDIR)/lda.rc was changed: kept"; fi

# Every Debian package the build and the tests need, in one list.
DEPS := gcc make pkg-config perl python3 libtre-dev libtre5 \
        libsasl2-dev libsasl2-modules libsasl2-modules-db sasl2-bin \
        libclamav-dev libspf2-dev \
        procmail maildrop cyrus-imapd cyrus-clients cyrus-admin \
        dovecot-core dovecot-lmtpd spamassassin spamd spamc clamav clamav-daemon \
        postfix hyperfine time valgrind mandoc groff \
        m4 libdb5.3 libldap-2.5-0 libnsl2 libwrap0 libssl3 libsasl2-2
# Sieve export (--to-sieve) is proven against Pigeonhole and Cyrus's sievec.
DEPS += dovecot-sieve dovecot-managesieved
# STARTTLS to remote stores, routing tables, and the Cyrus Murder test.
DEPS += libssl-dev openssl tinycdb libcdb-dev cyrus-murder
# lda -z from inetd (contrib/lda-lmtp.inetd), tested by mta-lmtpd.t
DEPS += openbsd-inetd
# Packages the tests unpack (dpkg -x) instead of installing: sendmail-bin
# conflicts with postfix. Fetched into LDA_DEBS (tests/peers/sendmail-up.sh).
DEBS_ONLY  := sendmail-bin sendmail-base sendmail-cf
LDA_DEBS   ?= /var/cache/lda/debs
deps:
	@if [ "$$(id -u)" != 0 ]; then \
	    echo "make deps: run as root, or: apt-get update && apt-get install -y --no-install-recommends $(DEPS)" >&2; \
	    exit 1; fi
	@sh .ci/apt-install.sh $(DEPS)
	@mkdir -p $(LDA_DEBS)
	@cd $(LDA_DEBS) && for p in $(DEBS_ONLY); do \
	    ls $${p}_*.deb >/dev/null 2>&1 || apt-get download -q $$p 2>&1 | grep -v '^W: Download is performed unsandboxed' || true; \
	    ls $${p}_*.deb >/dev/null 2>&1 || { echo "make deps: apt-get download $$p failed" >&2; exit 1; }; done

clean:
	rm -rf build build-san build-fuzz demo
