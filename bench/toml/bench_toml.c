/* SPDX-License-Identifier: MIT */
/*
 * TOML decode/encode throughput: bench-toml FILE [RUNS]
 * Prints the best of RUNS (default 10) for sm_toml_parse and sm_toml_encode in
 * MB/s (10^6 bytes of the input file per second), then a key=value line for
 * scripts.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "skillmeat/strbuf.h"
#include "skillmeat/toml.h"

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

int main(int argc, char **argv)
{
	struct strbuf in = STRBUF_INIT, out = STRBUF_INIT, err = STRBUF_INIT;
	double best_dec = 1e9, best_enc = 1e9, mb;
	int runs = argc > 2 ? (int)strtol(argv[2], NULL, 10) : 10;
	char buf[65536];
	size_t n;
	FILE *f;

	if (argc < 2 || runs < 1) {
		fputs("usage: bench-toml FILE [RUNS]\n", stderr);
		return 2;
	}
	f = fopen(argv[1], "rb");
	if (!f) {
		perror(argv[1]);
		return 1;
	}
	sm_strbuf_init(&in, (size_t)1 << 30);
	while ((n = fread(buf, 1, sizeof(buf), f)) > 0)
		if (sm_strbuf_add(&in, buf, n) < 0)
			return 1;
	fclose(f);
	sm_strbuf_init(&out, (size_t)1 << 30);
	for (int i = 0; i < runs; i++) {
		struct sm_toml_value *root;
		double t0 = now(), t1, t2;

		if (sm_toml_parse(in.buf, in.len, &root, &err) < 0) {
			fprintf(stderr, "bench-toml: %s: %s\n", argv[1], err.buf);
			return 1;
		}
		t1 = now();
		sm_strbuf_reset(&out);
		if (sm_toml_encode(root, &out, &err) < 0) {
			fprintf(stderr, "bench-toml: encode: %s\n", err.buf);
			return 1;
		}
		t2 = now();
		sm_toml_free(root);
		if (t1 - t0 < best_dec)
			best_dec = t1 - t0;
		if (t2 - t1 < best_enc)
			best_enc = t2 - t1;
	}
	mb = (double)in.len / 1e6;
	printf("file: %s (%.2f MB), best of %d runs\n", argv[1], mb, runs);
	printf("decode: %8.2f ms  %8.1f MB/s\n", best_dec * 1e3, mb / best_dec);
	printf("encode: %8.2f ms  %8.1f MB/s%s\n", best_enc * 1e3, mb / best_enc,
	       out.len == in.len && memcmp(out.buf, in.buf, in.len) == 0
		   ? "  (output byte-identical to the input)"
		   : "");
	printf("result decode_mbps=%.1f encode_mbps=%.1f bytes=%zu\n", mb / best_dec, mb / best_enc,
	       in.len);
	sm_strbuf_release(&in);
	sm_strbuf_release(&out);
	sm_strbuf_release(&err);
	return 0;
}
