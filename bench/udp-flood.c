// SPDX-License-Identifier: GPL-2.0
/*
 * udp-flood: the drop flood of the `pktpath drops` bench, and the paced flow of the
 * `trace -w` bench.
 *
 *   udp-flood ADDR PORT SECONDS [PPS]   send small UDP datagrams to ADDR:PORT (an IPv4
 *                                 address of a namespace the bench made) as fast as
 *                                 sendmmsg() allows, or at PPS datagrams a second, for
 *                                 SECONDS; print "sent <datagrams> <seconds>"
 *   udp-flood -l PORT SECONDS     receive on PORT for SECONDS (recvmmsg), print
 *                                 "received <datagrams>"
 *
 * Bounded in time; the benches run it inside their namespaces, towards the server
 * namespace's address (whose firewall drops every datagram in the drops bench).
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define BATCH 64

static double now_s(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

static void sleep_until(double t)
{
	struct timespec ts = { .tv_sec = (time_t)t, .tv_nsec = (long)((t - (time_t)t) * 1e9) };
	while (clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &ts, NULL) == EINTR)
		;
}

/* BATCH messages of one buffer each: buffer i at base + i * stride, `len` bytes of it */
static void batch_msgs(struct mmsghdr *msgs, struct iovec *iov, char *base, size_t stride, size_t len)
{
	memset(msgs, 0, BATCH * sizeof(*msgs));
	for (int i = 0; i < BATCH; i++) {
		iov[i].iov_base = base + i * stride;
		iov[i].iov_len = len;
		msgs[i].msg_hdr.msg_iov = &iov[i];
		msgs[i].msg_hdr.msg_iovlen = 1;
	}
}

/* -l PORT SECONDS: a reader for the datagrams, so they end in a socket as a real flow's do */
static int sink(int port, double secs)
{
	struct sockaddr_in me = { .sin_family = AF_INET, .sin_port = htons(port) };
	int fd = socket(AF_INET, SOCK_DGRAM, 0);
	struct timeval tv = { .tv_sec = 0, .tv_usec = 100000 };
	if (fd < 0 || bind(fd, (struct sockaddr *)&me, sizeof(me)) || setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv))) {
		perror("udp-flood: listen");
		return 1;
	}
	static char buf[BATCH][2048];
	struct iovec iov[BATCH];
	struct mmsghdr msgs[BATCH];
	batch_msgs(msgs, iov, buf[0], sizeof(buf[0]), sizeof(buf[0]));
	unsigned long long got = 0;
	double end = now_s() + secs;
	while (now_s() < end) {
		int n = recvmmsg(fd, msgs, BATCH, 0, NULL);
		if (n > 0)
			got += n;
	}
	printf("received %llu\n", got);
	return 0;
}

int main(int argc, char **argv)
{
	if (argc == 4 && !strcmp(argv[1], "-l"))
		return sink(atoi(argv[2]), atof(argv[3]));
	if (argc != 4 && argc != 5) {
		fprintf(stderr, "usage: udp-flood ADDR PORT SECONDS [PPS] | udp-flood -l PORT SECONDS\n");
		return 2;
	}
	struct sockaddr_in dst = { .sin_family = AF_INET, .sin_port = htons(atoi(argv[2])) };
	double secs = atof(argv[3]);
	double pps = argc == 5 ? atof(argv[4]) : 0;
	if (inet_pton(AF_INET, argv[1], &dst.sin_addr) != 1 || secs <= 0 || secs > 60) {
		fprintf(stderr, "udp-flood: bad address or duration (0-60 s)\n");
		return 2;
	}
	int fd = socket(AF_INET, SOCK_DGRAM, 0);
	if (fd < 0 || connect(fd, (struct sockaddr *)&dst, sizeof(dst))) {
		perror("udp-flood: socket");
		return 1;
	}
	/* 16-byte datagrams for the flood; a paced flow's are 64 bytes, as small real packets are */
	static char payload[BATCH][64];
	struct iovec iov[BATCH];
	struct mmsghdr msgs[BATCH];
	batch_msgs(msgs, iov, payload[0], sizeof(payload[0]), pps > 0 ? 64 : 16);
	unsigned long long sent = 0, rounds = 0;
	double start = now_s(), end = start + secs, t = start;
	/* paced: batches of 16 (every 160 us at 100k/s), each sent when its time has come */
	int batch = pps > 0 ? 16 : BATCH;
	while (t < end) {
		if (pps > 0) {
			sleep_until(start + sent / pps);
			t = now_s();
		}
		int n = sendmmsg(fd, msgs, batch, 0);
		if (n < 0 && errno != ENOBUFS && errno != EAGAIN && errno != EINTR) {
			perror("udp-flood: sendmmsg");
			return 1;
		}
		if (n > 0)
			sent += n;
		if (pps <= 0 && (++rounds & 15) == 0) /* the clock every 16 calls */
			t = now_s();
	}
	printf("sent %llu %.3f\n", sent, now_s() - start);
	return 0;
}
