// SPDX-License-Identifier: GPL-2.0
/*
 * flood-bench: the C side of the ring-buffer benchmark.
 *
 *   flood-bench c OBJ TOTAL       load OBJ, produce TOTAL events, consume them with
 *                                 libbpf's ring_buffer__poll; print "c <events/s> <lost>"
 *   flood-bench produce TOTAL     produce TOTAL events with the program on fd 3 into
 *                                 the ring buffer on fd 4 (both inherited from the
 *                                 JavaScript consumer that loaded the same object)
 *
 * The producer never overruns the consumer: it starts a batch only when the ring has
 * room for it, so the rate measured is the consumer's, and "lost" stays 0 unless the
 * consumer stalls.
 */
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <errno.h>
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

#define BATCH 4096
#include <linux/types.h>
#include "event.h"
#define RECORD (sizeof(struct pp_event) + 8) /* event + ring header */

struct producer {
	int prog_fd, ring_fd;
	long total;
	volatile unsigned long *cons, *prod;
	unsigned long size;
};

static double now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

static int map_positions(struct producer *p)
{
	struct bpf_map_info info = {};
	__u32 len = sizeof(info);
	long page = sysconf(_SC_PAGESIZE);
	if (bpf_obj_get_info_by_fd(p->ring_fd, &info, &len))
		return -errno;
	p->size = info.max_entries;
	void *c = mmap(NULL, page, PROT_READ, MAP_SHARED, p->ring_fd, 0);
	void *d = mmap(NULL, page, PROT_READ, MAP_SHARED, p->ring_fd, page);
	if (c == MAP_FAILED || d == MAP_FAILED)
		return -errno;
	p->cons = c;
	p->prod = d;
	return 0;
}

static void *produce(void *arg)
{
	struct producer *p = arg;
	LIBBPF_OPTS(bpf_test_run_opts, opts);
	for (long done = 0; done < p->total; done += BATCH) {
		/* wait until a whole batch fits */
		while (p->size - (__atomic_load_n(p->prod, __ATOMIC_ACQUIRE) - __atomic_load_n(p->cons, __ATOMIC_ACQUIRE)) <
		       (unsigned long)BATCH * RECORD * 2)
			sched_yield();
		if (bpf_prog_test_run_opts(p->prog_fd, &opts)) {
			perror("flood-bench: BPF_PROG_RUN");
			exit(1);
		}
	}
	return NULL;
}

static atomic_long consumed;

static int on_event(void *ctx, void *data, size_t size)
{
	const unsigned short *probe = (const unsigned short *)((const char *)data + 56);
	if (*probe)
		atomic_fetch_add_explicit(&consumed, 1, memory_order_relaxed);
	return 0;
}

static long read_stat(int fd, __u32 k)
{
	__u64 v = 0;
	bpf_map_lookup_elem(fd, &k, &v);
	return (long)v;
}

int main(int argc, char **argv)
{
	if (argc == 3 && !strcmp(argv[1], "produce")) {
		struct producer p = { .prog_fd = 3, .ring_fd = 4, .total = atol(argv[2]) };
		if (map_positions(&p)) {
			perror("flood-bench: map ring buffer");
			return 1;
		}
		produce(&p);
		return 0;
	}
	if (argc != 4 || strcmp(argv[1], "c")) {
		fprintf(stderr, "usage: flood-bench c OBJ TOTAL | flood-bench produce TOTAL\n");
		return 2;
	}
	long total = atol(argv[3]);
	total -= total % BATCH;
	struct bpf_object *obj = bpf_object__open_file(argv[2], NULL);
	if (!obj || bpf_object__load(obj)) {
		fprintf(stderr, "flood-bench: cannot load %s\n", argv[2]);
		return 1;
	}
	struct producer p = {
		.prog_fd = bpf_program__fd(bpf_object__find_program_by_name(obj, "flood")),
		.ring_fd = bpf_map__fd(bpf_object__find_map_by_name(obj, "events")),
		.total = total,
	};
	int stats_fd = bpf_map__fd(bpf_object__find_map_by_name(obj, "stats"));
	if (map_positions(&p)) {
		perror("flood-bench: map ring buffer");
		return 1;
	}
	struct ring_buffer *rb = ring_buffer__new(p.ring_fd, on_event, NULL, NULL);
	if (!rb) {
		perror("flood-bench: ring_buffer__new");
		return 1;
	}
	pthread_t t;
	double t0 = now();
	pthread_create(&t, NULL, produce, &p);
	while (atomic_load(&consumed) < total)
		ring_buffer__poll(rb, 100);
	double t1 = now();
	pthread_join(t, NULL);
	printf("c %.0f %ld\n", total / (t1 - t0), read_stat(stats_fd, 0));
	ring_buffer__free(rb);
	bpf_object__close(obj);
	return 0;
}
