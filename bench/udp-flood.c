// SPDX-License-Identifier: GPL-2.0
/*
 * udp-flood: the drop flood of the `pktpath drops` bench.
 *
 *   udp-flood ADDR PORT SECONDS   send small UDP datagrams to ADDR:PORT (an IPv4 address
 *                                 of a namespace the bench made) as fast as sendmmsg()
 *                                 allows, for SECONDS; print "sent <datagrams> <seconds>"
 *
 * Bounded in time; the bench runs it inside its client namespace, where the address is
 * the server namespace's, whose firewall drops every datagram.
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

int main(int argc, char **argv)
{
	if (argc != 4) {
		fprintf(stderr, "usage: udp-flood ADDR PORT SECONDS\n");
		return 2;
	}
	struct sockaddr_in dst = { .sin_family = AF_INET, .sin_port = htons(atoi(argv[2])) };
	double secs = atof(argv[3]);
	if (inet_pton(AF_INET, argv[1], &dst.sin_addr) != 1 || secs <= 0 || secs > 60) {
		fprintf(stderr, "udp-flood: bad address or duration (0-60 s)\n");
		return 2;
	}
	int fd = socket(AF_INET, SOCK_DGRAM, 0);
	if (fd < 0 || connect(fd, (struct sockaddr *)&dst, sizeof(dst))) {
		perror("udp-flood: socket");
		return 1;
	}
	static char payload[BATCH][16];
	struct iovec iov[BATCH];
	struct mmsghdr msgs[BATCH];
	memset(msgs, 0, sizeof(msgs));
	for (int i = 0; i < BATCH; i++) {
		iov[i].iov_base = payload[i];
		iov[i].iov_len = sizeof(payload[i]);
		msgs[i].msg_hdr.msg_iov = &iov[i];
		msgs[i].msg_hdr.msg_iovlen = 1;
	}
	unsigned long long sent = 0, rounds = 0;
	double start = now_s(), end = start + secs, t = start;
	while (t < end) {
		int n = sendmmsg(fd, msgs, BATCH, 0);
		if (n < 0 && errno != ENOBUFS && errno != EAGAIN && errno != EINTR) {
			perror("udp-flood: sendmmsg");
			return 1;
		}
		if (n > 0)
			sent += n;
		if ((++rounds & 15) == 0) /* the clock every 16 calls */
			t = now_s();
	}
	printf("sent %llu %.3f\n", sent, now_s() - start);
	return 0;
}
