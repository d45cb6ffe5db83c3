/* replay_main.c: a harness (fuzz.h) without libFuzzer, for `make check`.
 *
 *   fuzz-replay-NAME FILE...                 the harness body on each file
 *   fuzz-replay-NAME --materialize FILE DIR  the input as the shipped
 *                                            binary's files in DIR, and its
 *                                            arguments on stdout, one a line
 *   fuzz-replay-NAME --base FILE             the harness's base input (the
 *                                            synthetic core) into FILE
 * Exit status: 0 when every input ran (a crash or a sanitizer report ends
 * the process first), 77 when the harness's fixtures are missing, 1 on a
 * usage or I/O error. */
#include "fuzz.h"

#include <stdlib.h>
#include <string.h>

int main(int argc, char **argv)
{
	if (argc < 2) {
		fprintf(stderr, "usage: %s FILE... | --materialize FILE DIR | --base FILE\n", argv[0]);
		return 1;
	}
	if (fuzz_init() != 0)
		return 77;
	if (strcmp(argv[1], "--base") == 0) {
		const uint8_t *d;
		size_t n;
		if (argc != 3 || fuzz_base(&d, &n) != 0) {
			fprintf(stderr, "%s: no base input (or no FILE given)\n", argv[0]);
			return 1;
		}
		return fuzz_write(argv[2], d, n) ? 1 : 0;
	}
	if (strcmp(argv[1], "--materialize") == 0) {
		size_t n;
		uint8_t *d;
		if (argc != 4 || !(d = fuzz_slurp(argv[2], &n))) {
			fprintf(stderr, "%s: cannot read %s\n", argv[0], argc > 2 ? argv[2] : "(nothing)");
			return 1;
		}
		int rc = fuzz_materialize(d, n, argv[3], stdout);
		free(d);
		return rc ? 1 : 0;
	}
	for (int i = 1; i < argc; i++) {
		size_t n;
		uint8_t *d = fuzz_slurp(argv[i], &n);
		if (!d) {
			fprintf(stderr, "%s: cannot read %s\n", argv[0], argv[i]);
			return 1;
		}
		fuzz_one(d, n);
		free(d);
	}
	return 0;
}
