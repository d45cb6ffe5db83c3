/* types_producer.c: which rustc wrote the binary, from DW_AT_producer.
 *
 * rustc (through LLVM) names itself in every CU it writes:
 *   "clang LLVM (rustc version 1.95.0 (59807616e 2026-04-14))"
 * and so does the std shipped with it.  A binary can carry CUs of other
 * compilers (C objects: "GNU C17 13.2.0 -mtune=generic ...") and, rarely, of
 * several rustc releases (a prebuilt rlib); the release most CUs name is
 * taken, the newer one on a tie.  Nightly and beta producers
 * ("1.96.0-nightly") count as their release.  Layers above choose layouts of
 * std types by it (their version tables), so the choice is recorded with its
 * evidence through version_note().
 */
#include "types_priv.h"

#include <stdio.h>
#include <string.h>

/* Distinct releases tallied; more in one binary is hostile input, and the
 * extra ones are not counted rather than searched for quadratically. */
#define TYPES_MAX_RELEASES 64

/* A decimal number of at most 6 digits at *p. */
static bool number(const char **p, unsigned *out)
{
	unsigned v = 0;
	int n = 0;
	while (**p >= '0' && **p <= '9' && n < 6) {
		v = v * 10 + (unsigned)(**p - '0');
		(*p)++;
		n++;
	}
	*out = v;
	return n > 0 && !(**p >= '0' && **p <= '9');
}

/* "... rustc version MAJOR.MINOR.PATCH..." */
static bool parse_rustc(const char *producer, unsigned *major, unsigned *minor, unsigned *patch)
{
	static const char key[] = "rustc version ";
	const char *p = strstr(producer, key);
	if (!p)
		return false;
	p += sizeof key - 1;
	return number(&p, major) && *p++ == '.' && number(&p, minor) && *p++ == '.' &&
	       number(&p, patch);
}

int types_producer_add(struct types_build *b, const char *producer)
{
	unsigned major, minor, patch;
	if (!parse_rustc(producer, &major, &minor, &patch))
		return 0;
	b->rustc_cus++;
	for (size_t i = 0; i < b->producers.len; i++) {
		struct types_producer *p = &b->producers.data[i];
		if (p->major == major && p->minor == minor && p->patch == patch) {
			p->cus++;
			return 0;
		}
	}
	if (b->producers.len >= TYPES_MAX_RELEASES)
		return 0;
	const char *text = types_arena_strdup(&b->t->arena, producer, strlen(producer));
	if (!text || !types_producer_vec_append(&b->producers, (struct types_producer){ major, minor, patch, 1, text }))
		return types_build_nomem(b);
	return 0;
}

static bool newer(const struct types_producer *a, const struct types_producer *b)
{
	if (a->major != b->major)
		return a->major > b->major;
	if (a->minor != b->minor)
		return a->minor > b->minor;
	return a->patch > b->patch;
}

int types_producer_settle(struct types_build *b)
{
	const struct types_producer *pick = NULL;
	for (size_t i = 0; i < b->producers.len; i++) {
		const struct types_producer *p = &b->producers.data[i];
		if (!pick || p->cus > pick->cus || (p->cus == pick->cus && newer(p, pick)))
			pick = p;
	}
	if (!pick)
		return 0;
	struct types *t = b->t;
	t->rustc = (struct types_rustc){ true, pick->major, pick->minor, pick->patch };
	char value[48];
	snprintf(value, sizeof value, "%u.%u.%u", pick->major, pick->minor, pick->patch);
	if (!version_note(&t->versions, "rustc", "version", value,
			  "DW_AT_producer of %zu of %zu CUs (%zu by rustc, %zu releases): \"%.100s\"",
			  pick->cus, b->cus, b->rustc_cus, b->producers.len, pick->text))
		return types_build_nomem(b);
	return 0;
}
