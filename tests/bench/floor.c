/* The benchmark's floor: the least any libpcap-based reader of a capture can do.
 * Opens the file, visits every packet (its length and one byte of it) and prints the
 * sum so the loop cannot be optimised away. The file is read through a 1 MiB stdio
 * buffer, as egressd reads it, so that the comparison is of the work per packet, not
 * of the number of read system calls. Built with -O2 by `make bench`. */
#define _DEFAULT_SOURCE 1 /* u_char and friends under -std=c11 */
#include <pcap/pcap.h>
#include <stdint.h>
#include <stdio.h>

struct acc {
	uint64_t packets;
	uint64_t sum;
};

static void visit(u_char *user, const struct pcap_pkthdr *h, const u_char *bytes)
{
	struct acc *a = (struct acc *)user;

	a->packets++;
	a->sum += h->len + (h->caplen > 23 ? bytes[23] : 0);
}

int main(int argc, char **argv)
{
	char err[PCAP_ERRBUF_SIZE];
	struct acc a = {0, 0};
	pcap_t *p;

	if (argc != 2) {
		fprintf(stderr, "usage: floor FILE.pcap\n");
		return 64;
	}
	static char iobuf[1 << 20];
	FILE *fp = fopen(argv[1], "rb");
	if (fp == NULL) {
		perror(argv[1]);
		return 66;
	}
	setvbuf(fp, iobuf, _IOFBF, sizeof(iobuf));
	p = pcap_fopen_offline(fp, err);
	if (p == NULL) {
		fprintf(stderr, "floor: %s\n", err);
		return 66;
	}
	if (pcap_loop(p, -1, visit, (u_char *)&a) == -1) {
		fprintf(stderr, "floor: %s\n", pcap_geterr(p));
		pcap_close(p);
		return 65;
	}
	pcap_close(p);
	printf("%llu packets, sum %llu\n", (unsigned long long)a.packets,
	       (unsigned long long)a.sum);
	return 0;
}
