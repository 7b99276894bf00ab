/* SPDX-License-Identifier: MIT */
/* Placeholder: the toml-test tool is written in the TOML issue. */
#include <stdio.h>

int main(void)
{
	fputs("not implemented\n", stderr);
	return 2;
}
