/* types.c: opening and closing the type index of an executable.
 *
 * Picks the file whose DWARF to index, in gdb's order: the executable; when
 * it has none with types, --debug-file, then the build-id directories
 * (--debug-dir, /usr/lib/debug), .gnu_debuglink (beside the executable, in
 * .debug/, under the debug roots), debuginfod (types_debuginfo.c names the
 * places); every candidate's build-id is checked against the executable's,
 * has types_dwarf.c read every CU of it and types_merge.c merge the per-CGU
 * copies, and owns the arena every string and array of the index lives in.
 * The files themselves are types_file.c's business.
 */
#include "types_priv.h"

#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---------------------------------------------------------------- arena */

struct types_arena_block {
	struct types_arena_block *next;
	size_t cap;
	_Alignas(16) unsigned char data[];
};

void *types_arena_alloc(struct types_arena *a, size_t size)
{
	if (size > SIZE_MAX - 15 - sizeof(struct types_arena_block))
		return NULL;
	size = (size + 15) & ~(size_t)15;
	if (!a->head || a->cap - a->used < size) {
		/* blocks grow from 16 KiB to 1 MiB: a small file's index fits in
		 * one or two small blocks instead of a 1 MiB one (mapped and
		 * unmapped on every open) */
		size_t cap = a->head ? (a->cap < (1u << 19) ? 2 * a->cap : (1u << 20)) : (1u << 14);
		if (cap < size)
			cap = size;
		struct types_arena_block *b = malloc(sizeof *b + cap);
		if (!b)
			return NULL;
		b->next = a->head;
		b->cap = cap;
		a->head = b;
		a->used = 0;
		a->cap = cap;
	}
	void *p = a->head->data + a->used;
	a->used += size;
	return p;
}

char *types_arena_strdup(struct types_arena *a, const char *s, size_t len)
{
	char *p = len < SIZE_MAX ? types_arena_alloc(a, len + 1) : NULL;
	if (p) {
		memcpy(p, s, len);
		p[len] = 0;
	}
	return p;
}

void types_arena_free(struct types_arena *a)
{
	struct types_arena_block *b = a->head;
	while (b) {
		struct types_arena_block *n = b->next;
		free(b);
		b = n;
	}
	a->head = NULL;
}

/* ---------------------------------------------------- building and open */

int types_build_nomem(struct types_build *b)
{
	return err_set(b->e, ERR_NOMEM, "out of memory while indexing DWARF types");
}

void types_build_deinit(struct types_build *b)
{
	types_raw_vec_deinit(&b->raws);
	types_rstatic_vec_deinit(&b->statics);
	types_producer_vec_deinit(&b->producers);
}

/* Indexes path into t.  ERR_NOTFOUND when the file has no usable debug info
 * (the caller then tries the next candidate), other codes on real failure. */
static int index_file(struct types *t, const char *path, struct err *e)
{
	struct types_file f;
	int rc = types_file_open(&f, path, e);
	memcpy(t->build_id, f.build_id, sizeof t->build_id);
	if (rc)
		return rc;
	struct types_build b = { .t = t, .e = e };
	rc = types_dwarf_read(&b, f.dbg);
	if (!rc && !types_dwarf_has_types(&b))
		rc = err_set(e, ERR_NOTFOUND, "%s has no DWARF types: stripped, or built with debug = 0 or 1", path);
	if (!rc)
		rc = types_producer_settle(&b);
	if (!rc)
		rc = types_merge(&b);
	if (rc && rc != ERR_NOTFOUND)
		err_wrap(e, rc, "%s", path);
	types_file_close(&f);
	types_build_deinit(&b);
	return rc;
}

static void types_reset(struct types *t)
{
	types_arena_free(&t->arena);
	free(t->types);
	free(t->containing);
	types_free_indexes(t);
	version_facts_deinit(&t->versions);
	memset(t, 0, sizeof *t);
}

/* The discovery in progress: what was found where, and what was looked at. */
struct dsearch {
	const char *exe;
	char exe_id[80];
	char looked[400];   /* "; "-separated places tried, for the refusal */
};

static void looked_add(struct dsearch *d, const char *what)
{
	/* cut at the buffer's end: the refusal is one line of bounded length */
	size_t n = strlen(d->looked), room = sizeof d->looked - 1 - n;
	const char *sep = n ? ", " : "";
	size_t ls = strlen(sep) < room ? strlen(sep) : room;
	memcpy(d->looked + n, sep, ls);
	n += ls;
	room -= ls;
	size_t lw = strlen(what) < room ? strlen(what) : room;
	memcpy(d->looked + n, what, lw);
	d->looked[n + lw] = 0;
}

/* Tries one candidate debug file: 0 indexed (t->debug_source says so),
 * ERR_NOTFOUND to go on, another code to stop.  crc, when non-NULL, is a
 * .gnu_debuglink CRC that must match where build-ids cannot be compared. */
static int try_candidate(struct types *t, struct dsearch *d, const char *path, const char *how,
			 const uint32_t *crc, struct err *e)
{
	char id[80], what[600];
	if (!types_file_build_id(path, id, sizeof id)) {
		snprintf(what, sizeof what, "%s", path);
		looked_add(d, what);
		return ERR_NOTFOUND;
	}
	bool ids = d->exe_id[0] && id[0];
	if ((ids && strcmp(id, d->exe_id) != 0) || (!ids && crc && !types_crc_matches(path, *crc)) ||
	    (!ids && !crc)) {
		snprintf(what, sizeof what, "%s (%s)", path, ids ? "another build-id" : crc ? "CRC differs" : "no build-id");
		looked_add(d, what);
		return ERR_NOTFOUND;
	}
	types_reset(t);
	struct err sub = {0};
	int rc = index_file(t, path, &sub);
	if (rc == ERR_NOTFOUND) {
		snprintf(what, sizeof what, "%s (no types)", path);
		looked_add(d, what);
		return rc;
	}
	if (rc) {
		*e = sub;
		return rc;
	}
	snprintf(t->debug_source, sizeof t->debug_source, "%s %s", how, path);
	return 0;
}

/* The places gdb looks, in its order (after the executable and
 * --debug-file): the build-id directories, .gnu_debuglink, debuginfod. */
static int discover(struct types *t, struct dsearch *d, const struct types_debug_opts *o, struct err *e)
{
	char path[PATH_MAX + 256];
	const char *env = getenv("AGGOP_DEBUG_ROOT");
	const char *roots[2] = {o && o->debug_dir ? o->debug_dir : NULL, env && *env ? env : "/usr/lib/debug"};
	int rc = ERR_NOTFOUND;

	for (int r = 0; rc == ERR_NOTFOUND && r < 2; r++)
		if (roots[r] && types_file_debug_path(roots[r], d->exe_id, path, sizeof path))
			rc = try_candidate(t, d, path, "the build-id directory:", NULL, e);

	char name[256], real[PATH_MAX];
	uint32_t crc;
	if (rc == ERR_NOTFOUND && types_debuglink(d->exe, name, sizeof name, &crc)) {
		if (!realpath(d->exe, real))
			snprintf(real, sizeof real, "%s", d->exe);
		char *slash = strrchr(real, '/');
		const char *dir = slash ? real : ".";
		if (slash)
			*slash = 0;
		if (snprintf(path, sizeof path, "%s/%s", dir, name) < (int)sizeof path)
			rc = try_candidate(t, d, path, ".gnu_debuglink:", &crc, e);
		if (rc == ERR_NOTFOUND && snprintf(path, sizeof path, "%s/.debug/%s", dir, name) < (int)sizeof path)
			rc = try_candidate(t, d, path, ".gnu_debuglink:", &crc, e);
		for (int r = 0; rc == ERR_NOTFOUND && r < 2; r++)
			if (roots[r] && snprintf(path, sizeof path, "%s%s%s/%s", roots[r], dir[0] == '/' ? "" : "/", dir,
						 name) < (int)sizeof path)
				rc = try_candidate(t, d, path, ".gnu_debuglink:", &crc, e);
	} else if (rc == ERR_NOTFOUND) {
		looked_add(d, "no .gnu_debuglink");
	}

	if (rc == ERR_NOTFOUND && d->exe_id[0]) {
		char why[300];
		if (types_debuginfod(d->exe_id, o && o->progress, path, sizeof path, why, sizeof why) == 0)
			rc = try_candidate(t, d, path, "debuginfod:", NULL, e);
		else
			looked_add(d, why);
	}
	return rc;
}

int types_open_ex(struct types **out, const char *exe, const struct types_debug_opts *o, struct err *e)
{
	*out = NULL;
	struct types *t = calloc(1, sizeof *t);
	if (!t)
		return err_set(e, ERR_NOMEM, "out of memory opening %s", exe);
	int rc = index_file(t, exe, e);
	if (!rc)
		snprintf(t->debug_source, sizeof t->debug_source, "the executable itself");
	if (rc == ERR_NOTFOUND) {
		struct dsearch d = {.exe = exe};
		const char *debug_file = o ? o->debug_file : NULL;
		memcpy(d.exe_id, t->build_id, sizeof d.exe_id);
		bool stripped = !types_has_debug_info(exe);
		struct err first = *e;
		rc = ERR_NOTFOUND;
		if (debug_file) {
			types_reset(t);
			rc = index_file(t, debug_file, e);
			if (!rc && d.exe_id[0] && t->build_id[0] && strcmp(d.exe_id, t->build_id))
				rc = err_set(e, ERR_INPUT,
					     "debug file %s (build-id %s) does not belong to %s (build-id %s)",
					     debug_file, t->build_id, exe, d.exe_id);
			if (!rc)
				snprintf(t->debug_source, sizeof t->debug_source, "--debug-file %s", debug_file);
			else if (rc == ERR_NOTFOUND)
				looked_add(&d, debug_file);
		}
		if (rc == ERR_NOTFOUND)
			rc = discover(t, &d, o, e);
		if (rc == ERR_NOTFOUND && stripped)
			rc = err_set(e, ERR_INPUT,
				     "no DWARF type information for %s: it is stripped (no .debug_info; build-id %s) and its "
				     "debug file was not found in: %s; pass --debug-file or --debug-dir, or set DEBUGINFOD_URLS",
				     exe, d.exe_id[0] ? d.exe_id : "none", d.looked);
		else if (rc == ERR_NOTFOUND)
			rc = err_set(e, ERR_INPUT,
				     "no DWARF type information for %s (%s); build it with debug = 2 "
				     "(\"full\", not \"limited\"), or pass --debug-file (also looked in: %s)", exe, first.msg,
				     d.looked);
	}
	if (rc) {
		types_close(t);
		return rc;
	}
	*out = t;
	return 0;
}

int types_open(struct types **out, const char *exe, const char *debug_file, struct err *e)
{
	struct types_debug_opts o = {.debug_file = debug_file};
	return types_open_ex(out, exe, &o, e);
}

const char *types_debug_source(const struct types *t)
{
	return t->debug_source;
}

void types_close(struct types *t)
{
	if (!t)
		return;
	types_reset(t);
	free(t);
}
