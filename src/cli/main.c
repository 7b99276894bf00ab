/* SPDX-License-Identifier: MIT */
#include <stdio.h>
#include <string.h>

static void usage(FILE *f)
{
	fputs("usage: skillmeat [--home DIR] [--json] [--quiet] [--no-color] VERB ...\n", f);
}

int main(int argc, char **argv)
{
	if (argc > 1 && !strcmp(argv[1], "--version")) {
		printf("skillmeat %s\n", SM_VERSION);
		return 0;
	}
	if (argc > 1 && (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h"))) {
		usage(stdout);
		return 0;
	}
	usage(stderr);
	return 2;
}
