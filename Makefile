# SPDX-License-Identifier: MIT
# weft build: everything goes out of tree into build/. `make V=1` shows commands,
# `make SAN=address,undefined` builds sanitized.

BUILD    ?= build
CC       ?= gcc
CLANG    ?= clang
BPFTOOL  ?= bpftool
PROTOC_C ?= protoc-c
V        ?= 0
Q        := $(if $(filter 1,$(V)),,@)

ARCH     := $(shell uname -m | sed 's/x86_64/x86/;s/aarch64/arm64/')
VERSION  := $(shell git describe --always --dirty 2>/dev/null || echo unknown)

CFLAGS   ?= -O2 -g
# Project flags live apart from CFLAGS so `make CFLAGS=...` cannot drop them.
WEFT_CFLAGS := -Wall -Wextra -Wno-unused-parameter -std=gnu11 -MMD -MP -D_GNU_SOURCE \
            -Iinclude -Isrc -I. -I$(BUILD)/gen -I$(BUILD) -DWEFT_VERSION='"$(VERSION)"'
LDLIBS   += -lbpf -ldw -lelf -lz -lprotobuf-c -lm -lpthread
# Link-time optimisation: a record's way through weft crosses files (decoder, reorder buffer,
# analysis, trace encoder), and inlining across them takes 18% of the instructions per record
# off the ping-pong. `make LTO=` builds without.
LTO      ?= -flto=auto
WEFT_CFLAGS += $(LTO)
LDFLAGS  += $(LTO)
AR       := $(if $(LTO),gcc-ar,ar)
ifneq ($(SAN),)
WEFT_CFLAGS += -fsanitize=$(SAN) -fno-omit-frame-pointer
LDFLAGS  += -fsanitize=$(SAN)
endif

# --- generated: vmlinux.h, BPF objects and skeletons, protobuf-c -------------------------------
BPF_SRCS   := $(wildcard bpf/*.bpf.c)
BPF_OBJS   := $(patsubst bpf/%.bpf.c,$(BUILD)/bpf/%.bpf.o,$(BPF_SRCS))
BPF_SKELS  := $(patsubst bpf/%.bpf.c,$(BUILD)/gen/%.skel.h,$(BPF_SRCS))
PROTO_SRCS := $(wildcard src/perfetto/proto/*.proto)
PROTO_C    := $(patsubst src/perfetto/proto/%.proto,$(BUILD)/gen/%.pb-c.c,$(PROTO_SRCS))
PROTO_H    := $(PROTO_C:.c=.h)

$(BUILD)/vmlinux.h:
	$(Q)mkdir -p $(@D)
	$(Q)$(BPFTOOL) btf dump file /sys/kernel/btf/vmlinux format c > $@.tmp && mv $@.tmp $@

$(BUILD)/bpf/%.bpf.o: bpf/%.bpf.c $(BUILD)/vmlinux.h
	@echo "  BPF     $@"
	$(Q)mkdir -p $(@D)
	$(Q)$(CLANG) -g -O2 -target bpf -D__TARGET_ARCH_$(ARCH) -D__BPF__ -MMD -MP \
		-I$(BUILD) -Iinclude -Ibpf -c $< -o $@

$(BUILD)/gen/%.skel.h: $(BUILD)/bpf/%.bpf.o
	@echo "  SKEL    $@"
	$(Q)mkdir -p $(@D)
	$(Q)$(BPFTOOL) gen skeleton $< name $(subst -,_,$*)_bpf > $@.tmp && mv $@.tmp $@

$(BUILD)/gen/%.pb-c.c $(BUILD)/gen/%.pb-c.h: src/perfetto/proto/%.proto
	@echo "  PROTO   $<"
	$(Q)mkdir -p $(BUILD)/gen
	$(Q)$(PROTOC_C) --proto_path=src/perfetto/proto --c_out=$(BUILD)/gen $<

# --- C code ---------------------------------------------------------------------------------------
# core: pure logic usable without privileges (analysis, Perfetto writer, symbolization).
CORE_SRCS := $(wildcard src/*.c src/analyze/*.c src/perfetto/*.c src/symbolize/*.c)
# tool: the CLI, the collector (the only libbpf user) and the viewers.
TOOL_SRCS := $(wildcard src/cli/*.c src/collect/*.c viewers/*.c)
CORE_OBJS := $(patsubst %.c,$(BUILD)/obj/%.o,$(CORE_SRCS)) \
             $(patsubst $(BUILD)/gen/%.c,$(BUILD)/obj/gen/%.o,$(PROTO_C))
TOOL_OBJS := $(patsubst %.c,$(BUILD)/obj/%.o,$(TOOL_SRCS))

$(BUILD)/obj/%.o: %.c | $(PROTO_H)
	@echo "  CC      $<"
	$(Q)mkdir -p $(@D)
	$(Q)$(CC) $(CFLAGS) $(WEFT_CFLAGS) -c $< -o $@

$(BUILD)/obj/gen/%.o: $(BUILD)/gen/%.c
	@echo "  CC      $<"
	$(Q)mkdir -p $(@D)
	$(Q)$(CC) $(CFLAGS) $(WEFT_CFLAGS) -Wno-unused -c $< -o $@

# only the collector includes skeletons
$(filter $(BUILD)/obj/src/collect/%,$(TOOL_OBJS)): | $(BPF_SKELS)

$(BUILD)/libweft-core.a: $(CORE_OBJS)
	@echo "  AR      $@"
	$(Q)$(AR) rcs $@ $^

$(BUILD)/weft: $(TOOL_OBJS) $(BUILD)/libweft-core.a
	@echo "  LD      $@"
	$(Q)$(CC) $(LDFLAGS) $^ -o $@ $(LDLIBS)

# --- the LD_PRELOAD shim: runs inside the target, so libc only, nothing exported but the
# interposed functions, no libbpf -------------------------------------------------------------
PRELOAD_SRCS := $(wildcard src/preload/*.c)
PRELOAD_OBJS := $(patsubst %.c,$(BUILD)/obj/pic/%.o,$(PRELOAD_SRCS))
PRELOAD_CFLAGS := -O2 -g -Wall -Wextra -Wno-unused-parameter -std=gnu11 -MMD -MP -D_GNU_SOURCE \
            -Iinclude -Isrc -fPIC -fvisibility=hidden -fno-omit-frame-pointer \
            -fasynchronous-unwind-tables -ftls-model=initial-exec

$(BUILD)/obj/pic/%.o: %.c
	@echo "  CC      $<"
	$(Q)mkdir -p $(@D)
	$(Q)$(CC) $(PRELOAD_CFLAGS) -c $< -o $@

$(BUILD)/libweft-preload.so: $(PRELOAD_OBJS)
	@echo "  LD      $@"
	$(Q)$(CC) -shared -Wl,-z,defs -Wl,-z,now $^ -o $@ -ldl

# --- samples: small deterministic programs, one known behaviour each -------------------------------
SAMPLE_SRCS := $(wildcard samples/*/*.c)
SAMPLE_CXX  := $(wildcard samples/*/*.cc)
SAMPLES     := $(patsubst samples/%.c,$(BUILD)/samples/%,$(SAMPLE_SRCS)) \
               $(patsubst samples/%.cc,$(BUILD)/samples/%,$(SAMPLE_CXX))
CXX      ?= g++
$(BUILD)/samples/%: samples/%.c
	@echo "  SAMPLE  $@"
	$(Q)mkdir -p $(@D)
	$(Q)$(CC) -O2 -g -Wall -pthread -Iinclude $< -o $@ -lm $(SAMPLE_LIBS_$(notdir $*))
# samples that need a library
SAMPLE_LIBS_libuv_loop := -luv
SAMPLE_LIBS_libevent_loop := -levent
SAMPLE_LIBS_cut_library := -ldl
# ... and the library cut_library loads (its path is given at run time)
SAMPLES += $(BUILD)/samples/threads/libnapping.so
$(BUILD)/samples/threads/libnapping.so: samples/threads/lib/napping.c
	@echo "  SAMPLE  $@"
	$(Q)mkdir -p $(@D)
	$(Q)$(CC) -O2 -g -Wall -shared -fPIC $< -o $@

# Go samples (samples/csp): standard library only, built offline with the local toolchain;
# plus a stripped copy (degraded mode) and one without DWARF (built-in offsets). Skipped with a note when go is missing.
GO          ?= go
GO_SRCS     := $(wildcard samples/csp/*.go)
GO_SAMPLES  := $(patsubst samples/%.go,$(BUILD)/samples/%,$(GO_SRCS))
GO_ENV      := GOTOOLCHAIN=local GO111MODULE=off GOFLAGS= GOCACHE=$(abspath $(BUILD))/go-cache \
               GOPATH=$(abspath $(BUILD))/go-path
HAVE_GO     := $(shell command -v $(GO) 2>/dev/null)
$(BUILD)/samples/csp/%: samples/csp/%.go
	@echo "  GO      $@"
	$(Q)mkdir -p $(@D)
	$(Q)$(GO_ENV) $(GO) build -o $@ $<
$(BUILD)/samples/csp/%-stripped: $(BUILD)/samples/csp/%
	$(Q)strip -o $@ $<
$(BUILD)/samples/csp/%-nodwarf: samples/csp/%.go
	@echo "  GO      $@"
	$(Q)$(GO_ENV) $(GO) build -ldflags=-w -o $@ $<
ifneq ($(HAVE_GO),)
SAMPLES     += $(GO_SAMPLES) $(BUILD)/samples/csp/producer_consumer-stripped \
               $(BUILD)/samples/csp/producer_consumer-nodwarf
endif
$(BUILD)/samples/%: samples/%.cc
	@echo "  SAMPLE  $@"
	$(Q)mkdir -p $(@D)
	$(Q)$(CXX) -O2 -g -Wall -pthread $< -o $@

# Erlang escripts run from build/ as they are; C++ samples link the runtime they show (CAF).
ERL_SAMPLES := $(patsubst samples/%.erl,$(BUILD)/samples/%.erl,$(wildcard samples/*/*.erl))
CXX_SAMPLES := $(patsubst samples/%.cpp,$(BUILD)/samples/%,$(wildcard samples/*/*.cpp))
$(BUILD)/samples/%.erl: samples/%.erl
	$(Q)mkdir -p $(@D)
	$(Q)install -m 755 $< $@
$(BUILD)/samples/%: samples/%.cpp
	@echo "  SAMPLE  $@"
	$(Q)mkdir -p $(@D)
	$(Q)$(CXX) -O2 -g -Wall -std=c++17 -pthread -Iinclude $< -o $@ -lcaf_core

# --- tests ----------------------------------------------------------------------------------------
UNIT_SRCS  := $(wildcard tests/unit/test_*.c)
UNIT_TESTS := $(patsubst tests/unit/%.c,$(BUILD)/tests/%,$(UNIT_SRCS))
FIXTURES   := $(BUILD)/tests/fixture-pie $(BUILD)/tests/fixture-nopie $(BUILD)/tests/libfixture.so

# Tool code a unit test needs besides the core (pure logic that lives with the CLI or the
# collector).
UNIT_OBJS_test_pace := $(BUILD)/obj/src/cli/pace.o
UNIT_OBJS_test_cpu_rings := $(BUILD)/obj/src/collect/cpu_rings.o
.SECONDEXPANSION:
$(BUILD)/tests/test_%: tests/unit/test_%.c $(BUILD)/libweft-core.a $$(UNIT_OBJS_test_$$*) | $(PROTO_H)
	@echo "  TEST    $@"
	$(Q)mkdir -p $(@D)
	$(Q)$(CC) $(CFLAGS) $(WEFT_CFLAGS) -Itests/unit $(LDFLAGS) $< $(UNIT_OBJS_test_$*) -o $@ $(BUILD)/libweft-core.a -lcmocka $(LDLIBS)

$(BUILD)/tests/libfixture.so: tests/fixtures/libfixture.c
	$(Q)mkdir -p $(@D)
	$(Q)$(CC) -O1 -g -fPIC -shared $< -o $@
$(BUILD)/tests/fixture-pie: tests/fixtures/fixture.c $(BUILD)/tests/libfixture.so
	$(Q)$(CC) -O1 -g -fpie -pie $< -o $@ -L$(BUILD)/tests -lfixture -Wl,-rpath,'$$ORIGIN'
$(BUILD)/tests/fixture-nopie: tests/fixtures/fixture.c $(BUILD)/tests/libfixture.so
	$(Q)$(CC) -O1 -g -fno-pie -no-pie $< -o $@ -L$(BUILD)/tests -lfixture -Wl,-rpath,'$$ORIGIN'

# --- top-level targets ----------------------------------------------------------------------------
.SECONDARY:
.PHONY: all samples unit-tests test test-unit test-integration test-sanitized fuzz bench format \
	clean tp-reader
.DEFAULT_GOAL := all
all: $(BUILD)/weft $(BUILD)/libweft-preload.so samples
samples: $(SAMPLES) $(ERL_SAMPLES) $(CXX_SAMPLES)
unit-tests: $(UNIT_TESTS) $(FIXTURES)

test-unit: unit-tests
	$(Q)tests/run-unit.sh $(BUILD)

tp-reader:
	$(Q)tests/tp/install.sh $(BUILD)/tp

test-integration: all tp-reader
	$(Q)tests/integration/run.sh $(BUILD)

# weft and the samples again, built with AddressSanitizer and UndefinedBehaviorSanitizer, through
# the unit tests and the integration tests that take the paths a real recording takes (stacks
# resolved while maps are read again, JIT names, Go and BEAM probes, locks, loops, bad input).
# The preload shim's tests stay out: a sanitized shim cannot be preloaded into other programs.
SAN_BUILD := $(BUILD)-san
SAN_TESTS := run_writes_clean_named_trace waker_is_the_other_thread \
	offcpu_stack_keeps_caller_of_libc output_file_rules record_bad_pids \
	record_pid_that_exits_during_attach convoy_lock_ranked_first_with_holders \
	deadlock_found_live epoll_stalls_and_culprits node_stalls_name_the_js_function \
	asyncio_stalls_name_python_functions python_threads_stacks_name_their_python_functions \
	go_slow_channel_ranks_first_on_send_side \
	go_record_attaches_to_running_program beam_pingpong_flows caf_slow_actor_identified \
	a_library_cut_short_on_disk_does_not_stop_weft

test-sanitized: tp-reader
	$(Q)$(MAKE) --no-print-directory BUILD=$(SAN_BUILD) SAN=address,undefined all unit-tests
	$(Q)tests/run-unit.sh $(SAN_BUILD)
	$(Q)ln -sfn $(abspath $(BUILD)/tp) $(SAN_BUILD)/tp
	$(Q)UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1 ASAN_OPTIONS=detect_leaks=1 \
		tests/integration/run.sh $(SAN_BUILD) $(SAN_TESTS)

test: test-unit test-integration test-sanitized

# libFuzzer on the way records take through weft (tests/fuzz/fuzz_records.c), built by clang
# with AddressSanitizer and UndefinedBehaviorSanitizer into build-fuzz/, for FUZZ_SECONDS;
# the corpus stays in build-fuzz/corpus for the next run. Not part of `make test`: a search,
# not a check (what it finds becomes a unit test).
FUZZ_BUILD   := $(BUILD)-fuzz
FUZZ_SECONDS ?= 300
FUZZ_FLAGS   := -O1 -g -fsanitize=address,undefined
fuzz:
	$(Q)$(MAKE) --no-print-directory BUILD=$(FUZZ_BUILD) CC=clang LTO= \
		CFLAGS="$(FUZZ_FLAGS) -fsanitize=fuzzer-no-link" $(FUZZ_BUILD)/libweft-core.a
	@echo "  LD      $(FUZZ_BUILD)/fuzz_records"
	$(Q)clang $(FUZZ_FLAGS) -fsanitize=fuzzer -std=gnu11 -D_GNU_SOURCE -Iinclude -Isrc \
		-I$(FUZZ_BUILD)/gen tests/fuzz/fuzz_records.c $(FUZZ_BUILD)/libweft-core.a \
		-o $(FUZZ_BUILD)/fuzz_records $(LDLIBS)
	$(Q)mkdir -p $(FUZZ_BUILD)/corpus
	$(Q)cd $(FUZZ_BUILD) && UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1 \
		./fuzz_records -max_total_time=$(FUZZ_SECONDS) -timeout=10 -max_len=8192 corpus

# The benchmarks' reference: empty programs on the scheduler tracepoints weft uses.
$(BUILD)/bench/tracepoint_floor.bpf.o: bench/floor/tracepoint_floor.bpf.c $(BUILD)/vmlinux.h
	@echo "  BPF     $@"
	$(Q)mkdir -p $(@D)
	$(Q)$(CLANG) -g -O2 -target bpf -D__TARGET_ARCH_$(ARCH) -D__BPF__ -I$(BUILD) -c $< -o $@

$(BUILD)/bench/tracepoint_floor.skel.h: $(BUILD)/bench/tracepoint_floor.bpf.o
	$(Q)$(BPFTOOL) gen skeleton $< name tracepoint_floor_bpf > $@.tmp && mv $@.tmp $@

$(BUILD)/bench/tracepoint_floor: bench/floor/tracepoint_floor.c $(BUILD)/bench/tracepoint_floor.skel.h
	@echo "  CC      $@"
	$(Q)$(CC) $(CFLAGS) -Wall -I$(BUILD)/bench $< -o $@ -lbpf

bench: all $(BUILD)/bench/tracepoint_floor
	$(Q)bench/run.sh $(BUILD)

format:
	clang-format -i $$(git ls-files '*.c' '*.h')

clean:
	rm -rf $(BUILD) $(SAN_BUILD) $(FUZZ_BUILD)

-include $(shell find $(BUILD) -name '*.d' 2>/dev/null)
