/* probe_truth.h: what the types probes printed about themselves
 * ($FIXDIR/types/<prog>.out, built by tests/setup.d/20-types.sh), loaded as
 * lines, the parsers for their enum and variant lines, and a lookup that
 * must succeed.  Shared by
 * test_types.c and test_layout.c. */
#ifndef AGGOP_PROBE_TRUTH_H
#define AGGOP_PROBE_TRUTH_H

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "types.h"

#define MAX_LINES 4096

struct truth {
	char *lines[MAX_LINES];
	size_t n;
};

static void truth_load(struct truth *tr, const char *prog)
{
	char path[1024], line[4096];
	const char *d = getenv("FIXDIR");
	snprintf(path, sizeof path, "%s/types/%s.out", d ? d : "build/fixtures", prog);
	FILE *f = fopen(path, "r");
	if (!f)
		fail_msg("cannot open %s (run tests/setup.sh)", path);
	tr->n = 0;
	while (fgets(line, sizeof line, f) && tr->n < MAX_LINES) {
		line[strcspn(line, "\n")] = 0;
		tr->lines[tr->n++] = strdup(line);
	}
	fclose(f);
	assert_true(tr->n > 0);
}

static void truth_free(struct truth *tr)
{
	for (size_t i = 0; i < tr->n; i++)
		free(tr->lines[i]);
	tr->n = 0;
}

/* Probe lines carry type names that may hold spaces ("Option<Box<T, Global>>"):
 * the name runs from after the keyword to the last space before the next
 * fixed word. */
static bool parse_enum_line(const char *l, const char *kw, char *name, size_t n,
			    unsigned long long *size, unsigned long long *align)
{
	size_t kl = strlen(kw);
	const char *s = strstr(l, " size ");
	if (strncmp(l, kw, kl) || l[kl] != ' ' || !s || (size_t)(s - l - kl - 1) >= n)
		return false;
	memcpy(name, l + kl + 1, (size_t)(s - l - kl - 1));
	name[s - l - kl - 1] = 0;
	*align = 0;
	return sscanf(s, " size %llu align %llu", size, align) >= 1;
}

static bool parse_variant_line(const char *l, char *name, size_t n, char *var, size_t vn,
			       unsigned long long *payload, char *hex, size_t hn)
{
	const char *p = strstr(l, " payload ");
	if (strncmp(l, "variant ", 8) || !p)
		return false;
	const char *sp = p - 1;
	while (sp > l + 8 && *sp != ' ')
		sp--;
	if (sp <= l + 8 || (size_t)(sp - l - 8) >= n || (size_t)(p - sp - 1) >= vn)
		return false;
	memcpy(name, l + 8, (size_t)(sp - l - 8));
	name[sp - l - 8] = 0;
	memcpy(var, sp + 1, (size_t)(p - sp - 1));
	var[p - sp - 1] = 0;
	char fmt[64];
	snprintf(fmt, sizeof fmt, " payload %%llu bytes %%%zus", hn - 1);
	return sscanf(p, fmt, payload, hex) == 2;
}

/* A type that must exist. */
static type_id lookup_ok(const struct types *t, const char *name)
{
	type_id id = 0;
	struct err e = { 0 };
	if (types_lookup(t, name, &id, &e))
		fail_msg("lookup %s: %s", name, e.msg);
	assert_int_not_equal(id, 0);
	return id;
}

#endif
