# Builds the C parts: BPF objects (CO-RE, clang) and the Node-API addon (libbpf).
# TypeScript is built by scripts/build.sh.
OUT        := build
XDP_FIXTURES := $(OUT)/xdp-back.bpf.o $(OUT)/xdp-tx.bpf.o $(OUT)/xdp-abort.bpf.o $(OUT)/xdp-pass.bpf.o
CLANG      ?= clang
BPFTOOL    ?= bpftool
NODE_INC   ?= $(shell d=$$(dirname $$(dirname $$(readlink -f $$(command -v node))))/include/node; [ -f $$d/node_api.h ] && echo $$d || echo /usr/include/node)
ARCH       := $(shell uname -m | sed 's/x86_64/x86/;s/aarch64/arm64/')
BPF_CFLAGS := -O2 -g -target bpf -D__TARGET_ARCH_$(ARCH) -Wall -Wno-unused-function -I bpf -I $(OUT)
# DWARF is for debuggers only: libbpf needs the BTF (kept), and the file is read whole at every open
STRIP_DWARF := llvm-strip -g
CFLAGS     ?= -O2 -g -Wall -Wextra -Wno-unused-parameter

all: $(OUT)/pktpath.bpf.o $(OUT)/drops.bpf.o $(OUT)/pcap-run.bpf.o $(OUT)/flood.bpf.o $(OUT)/pktpath.node $(OUT)/flood-bench $(OUT)/udp-flood $(XDP_FIXTURES)

$(OUT):
	mkdir -p $(OUT)

# vmlinux.h from the build machine's BTF; CO-RE relocations make the object portable.
$(OUT)/vmlinux.h: | $(OUT)
	$(BPFTOOL) btf dump file /sys/kernel/btf/vmlinux format c > $@.tmp && mv $@.tmp $@

bpf/probes.gen.h: src/engine/probes.json scripts/gen-probes.mjs
	node scripts/gen-probes.mjs

$(OUT)/pktpath.bpf.o: bpf/pktpath.bpf.c bpf/event.h bpf/probes.gen.h bpf/parse.h bpf/pcap.h bpf/track.h bpf/evidence.h $(OUT)/vmlinux.h
	$(CLANG) $(BPF_CFLAGS) -c $< -o $@
	$(STRIP_DWARF) $@

$(OUT)/pcap-run.bpf.o: test/bpf/pcap-run.bpf.c bpf/pcap.h bpf/parse.h bpf/event.h $(OUT)/vmlinux.h
	$(CLANG) $(BPF_CFLAGS) -c $< -o $@

# pktpath drops: its own object, sharing the parser and the filters (parse.h, pcap.h)
$(OUT)/drops.bpf.o: bpf/drops.bpf.c bpf/drops.h bpf/event.h bpf/parse.h bpf/pcap.h $(OUT)/vmlinux.h
	$(CLANG) $(BPF_CFLAGS) -c $< -o $@
	$(STRIP_DWARF) $@

$(OUT)/flood.bpf.o: bench/flood.bpf.c bpf/event.h $(OUT)/vmlinux.h
	$(CLANG) $(BPF_CFLAGS) -c $< -o $@

# XDP programs the integration tests attach with ip link, one per verdict (test/fixtures/bpf/xdp-verdict.bpf.c)
$(OUT)/xdp-%.bpf.o: test/fixtures/bpf/xdp-verdict.bpf.c | $(OUT)
	$(CLANG) -O2 -g -target bpf -I /usr/include/$(shell $(CC) -dumpmachine) -DPP_XDP_$(shell echo $* | tr a-z A-Z) -c $< -o $@

$(OUT)/pktpath.node: native/pktpath.c | $(OUT)
	$(CC) $(CFLAGS) -shared -fPIC -DNODE_GYP_MODULE_NAME=pktpath -I $(NODE_INC) $< -o $@ -lbpf -lpcap -lelf -lz -lpthread

$(OUT)/flood-bench: bench/flood-bench.c bpf/event.h | $(OUT)
	$(CC) $(CFLAGS) -I bpf $< -o $@ -lbpf -lelf -lz -lpthread

# the drop flood of the pktpath drops bench
$(OUT)/udp-flood: bench/udp-flood.c | $(OUT)
	$(CC) $(CFLAGS) $< -o $@

clean:
	rm -rf $(OUT) bpf/probes.gen.h

.PHONY: all clean
