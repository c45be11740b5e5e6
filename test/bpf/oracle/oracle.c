/*
 * moat's libpcap oracle: a small helper that asks the system libpcap
 * (Debian 12: 1.10.3) what it would do, so tests can compare against it.
 *
 *   oracle apply  OPT FILE EXPR             the program ("P code jt jf k" lines), then
 *                                           pcap_offline_filter's result per packet of FILE
 *                                           (compiled for FILE's link type and snaplen)
 *   oracle dump   DLT OPT SNAP NETMASK LEVEL EXPR   bpf_dump(LEVEL 1=-d 2=-dd 3=-ddd)
 *   oracle insns  DLT OPT SNAP NETMASK EXPR  one "code jt jf k" line per instruction
 *   oracle run    FILE                      program from stdin ("code jt jf k" lines),
 *                                           pcap_offline_filter result per packet of FILE
 *   oracle bench  FILE ROUNDS EXPR          time pcap_offline_filter over FILE held in memory
 *   oracle benchc DLT ROUNDS EXPR...        time pcap_compile (optimized) per expression
 *   oracle lengths OPT                      "DLT<TAB>EXPR" lines on stdin: the program's length
 *                                           per line, or -1 where it does not compile
 *   oracle programs OPT                     the same, each line the length and then the
 *                                           instructions ("code jt jf k" each), or -1
 *
 * NETMASK is a 32-bit number (0 = PCAP_NETMASK_UNKNOWN). Errors: message on
 * stderr, exit 2 (compile error) or 1 (anything else).
 */
#include <pcap/pcap.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static double now(void) {
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

static pcap_t *open_file(const char *path) {
	char err[PCAP_ERRBUF_SIZE];
	pcap_t *p = pcap_open_offline(path, err);
	if (p == NULL) {
		fprintf(stderr, "open: %s\n", err);
		exit(1);
	}
	return p;
}

static void compile_or_die(pcap_t *p, struct bpf_program *prog, const char *expr, int opt, bpf_u_int32 mask) {
	if (pcap_compile(p, prog, expr, opt, mask == 0 ? PCAP_NETMASK_UNKNOWN : mask) != 0) {
		fprintf(stderr, "error: %s\n", pcap_geterr(p));
		exit(2);
	}
}

/* Print the filter's result for every packet; stop with a line "error: ..." on a damaged file. */
static void each_packet(pcap_t *p, struct bpf_program *prog) {
	struct pcap_pkthdr *h;
	const u_char *data;
	int r;
	while ((r = pcap_next_ex(p, &h, &data)) == 1) printf("%u\n", pcap_offline_filter(prog, h, data));
	if (r == PCAP_ERROR) printf("error: %s\n", pcap_geterr(p));
}

int main(int argc, char **argv) {
	if (argc < 2) {
		fprintf(stderr, "usage: see oracle.c\n");
		return 1;
	}
	const char *mode = argv[1];
	struct bpf_program prog;
	if (strcmp(mode, "apply") == 0 && argc == 5) {
		pcap_t *p = open_file(argv[3]);
		compile_or_die(p, &prog, argv[4], atoi(argv[2]), 0);
		/* The program first ("P code jt jf k"), so callers can run the very same one. */
		for (u_int i = 0; i < prog.bf_len; i++) {
			struct bpf_insn *in = &prog.bf_insns[i];
			printf("P %u %u %u %u\n", in->code, in->jt, in->jf, in->k);
		}
		each_packet(p, &prog);
		return 0;
	}
	if ((strcmp(mode, "dump") == 0 && argc == 8) || (strcmp(mode, "insns") == 0 && argc == 7)) {
		pcap_t *p = pcap_open_dead(atoi(argv[2]), atoi(argv[4]));
		compile_or_die(p, &prog, argv[argc - 1], atoi(argv[3]), (bpf_u_int32)strtoul(argv[5], NULL, 0));
		if (mode[0] == 'd') {
			bpf_dump(&prog, atoi(argv[6]));
		} else {
			for (u_int i = 0; i < prog.bf_len; i++) {
				struct bpf_insn *in = &prog.bf_insns[i];
				printf("%u %u %u %u\n", in->code, in->jt, in->jf, in->k);
			}
		}
		return 0;
	}
	if (strcmp(mode, "run") == 0 && argc == 3) {
		static struct bpf_insn insns[8192];
		u_int n = 0, code, jt, jf, k;
		while (n < 8192 && scanf("%u %u %u %u", &code, &jt, &jf, &k) == 4) {
			insns[n].code = code;
			insns[n].jt = jt;
			insns[n].jf = jf;
			insns[n].k = k;
			n++;
		}
		prog.bf_len = n;
		prog.bf_insns = insns;
		each_packet(open_file(argv[2]), &prog);
		return 0;
	}
	if (strcmp(mode, "bench") == 0 && argc == 5) {
		pcap_t *p = open_file(argv[2]);
		compile_or_die(p, &prog, argv[4], 1, 0);
		size_t cap = 1024, n = 0;
		struct pcap_pkthdr *hs = malloc(cap * sizeof *hs);
		u_char **ds = malloc(cap * sizeof *ds);
		struct pcap_pkthdr *h;
		const u_char *data;
		while (pcap_next_ex(p, &h, &data) == 1) {
			if (n == cap) {
				cap *= 2;
				hs = realloc(hs, cap * sizeof *hs);
				ds = realloc(ds, cap * sizeof *ds);
			}
			hs[n] = *h;
			ds[n] = malloc(h->caplen ? h->caplen : 1);
			memcpy(ds[n], data, h->caplen);
			n++;
		}
		int rounds = atoi(argv[3]);
		unsigned long accepted = 0;
		double t0 = now();
		for (int r = 0; r < rounds; r++)
			for (size_t i = 0; i < n; i++) accepted += pcap_offline_filter(&prog, &hs[i], ds[i]) != 0;
		double t = now() - t0;
		printf("%zu %lu %.9f\n", n * rounds, accepted, t);
		return 0;
	}
	if ((strcmp(mode, "lengths") == 0 || strcmp(mode, "programs") == 0) && argc == 3) {
		int whole = mode[0] == 'p';
		static char line[65536];
		int opt = atoi(argv[2]);
		while (fgets(line, sizeof line, stdin) != NULL) {
			char *tab = strchr(line, '\t');
			size_t len = strlen(line);
			if (len > 0 && line[len - 1] == '\n') line[len - 1] = '\0';
			if (tab == NULL) {
				printf("-1\n");
				continue;
			}
			*tab = '\0';
			pcap_t *p = pcap_open_dead(atoi(line), 262144);
			if (pcap_compile(p, &prog, tab + 1, opt, PCAP_NETMASK_UNKNOWN) != 0) {
				printf("-1\n");
			} else {
				printf("%u", prog.bf_len);
				for (u_int i = 0; whole && i < prog.bf_len; i++) {
					struct bpf_insn *in = &prog.bf_insns[i];
					printf(" %u %u %u %u", in->code, in->jt, in->jf, in->k);
				}
				printf("\n");
				pcap_freecode(&prog);
			}
			pcap_close(p);
		}
		return 0;
	}
	if (strcmp(mode, "benchc") == 0 && argc >= 5) {
		pcap_t *p = pcap_open_dead(atoi(argv[2]), 262144);
		int rounds = atoi(argv[3]);
		for (int e = 4; e < argc; e++) {
			double t0 = now();
			int ok = 1;
			for (int r = 0; r < rounds && ok; r++) {
				if (pcap_compile(p, &prog, argv[e], 1, PCAP_NETMASK_UNKNOWN) != 0) ok = 0;
				else pcap_freecode(&prog);
			}
			printf("%d %.9f\n", ok, (now() - t0) / rounds);
		}
		return 0;
	}
	fprintf(stderr, "usage: see oracle.c\n");
	return 1;
}
