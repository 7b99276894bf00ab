/* SPDX-License-Identifier: MIT */
/*
 * libFuzzer target for routing and the query string on the real application
 * (fuzz_app.h): "METHOD TARGET" (one line, no body) through the router and
 * the handler it picks, so path decoding, {id} parameters, filters, limits,
 * sort orders, search and the base64 list cursors (?after=) of every list
 * run against a real index. Reads only, plus DELETE (whose effects are
 * undone, or refused without a server). Every answer is checked as in
 * fuzz_json.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz_app.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *methods[] = {"GET", "HEAD", "DELETE"};
	char *line, *sp;
	const char *method = "GET";

	if (size == 0 || size > 4000 || memchr(data, '\0', size) || memchr(data, '\n', size))
		return 0;
	line = malloc(size + 1);
	if (!line)
		return 0;
	memcpy(line, data, size);
	line[size] = '\0';
	sp = strchr(line, ' ');
	if (sp) {
		*sp = '\0';
		method = NULL;
		for (size_t i = 0; i < sizeof(methods) / sizeof(methods[0]); i++)
			if (!strcmp(line, methods[i]))
				method = methods[i];
	}
	if (method)
		(void)fuzz_app_request(method, sp ? sp + 1 : line, NULL, 0);
	free(line);
	return 0;
}
