/* walk_path.c: interned field paths ("Windowed > buckets[*] > Percentile > inner").
 *
 * While walking, the current path is a stack of segment pointers (member and
 * variant names owned by the type graph, or literals such as "[*]").  Only
 * when an allocation is reported is the stack interned: first by the pointer
 * sequence (cheap, no string work on the hot path), then by its display
 * string, so that two spellings of the same path share one id.  A pointer
 * sequence also has an id of its own (a "seq"), so that a visit queued for
 * later can save the stack in four bytes and restore it when it runs.
 */
#include "walk_int.h"
#include "arr.h"

#include <stdlib.h>
#include <string.h>

static uint64_t mix(uint64_t h, uint64_t v)
{
	h ^= v + 0x9E3779B97F4A7C15ull + (h << 6) + (h >> 2);
	return h * 0xff51afd7ed558ccdull;
}

/* The canonical id of a display string (takes ownership of s). */
static uint32_t intern_name(struct walk *w, char *s)
{
	if (!s)
		return WALK_PATH_ROOT;
	struct walk_name_ent *e = walk_name_index_find(&w->name_ht, s);
	if (e) {
		free(s);
		return e->id;
	}
	if (!walk_name_index_reserve(&w->name_ht, w->name_ht.len + 1) ||
	    !walk_name_vec_reserve(&w->names, w->names.len + 1)) {
		free(s);
		return WALK_PATH_ROOT;
	}
	uint32_t id = (uint32_t)w->names.len++;
	w->names.data[id] = s;
	e = walk_name_index_insert(&w->name_ht, s, NULL);
	e->name = s;
	e->id = id;
	return id;
}

static char *join(const char *const *segs, int n)
{
	size_t len = 1;
	for (int i = 0; i < n; i++)
		len += strlen(segs[i]) + 3;
	char *s = malloc(len), *p = s;
	if (!s)
		return NULL;
	*p = 0;
	for (int i = 0; i < n; i++) {
		if (i > 0 && segs[i][0] != '[') {
			memcpy(p, " > ", 3);
			p += 3;
		}
		size_t l = strlen(segs[i]);
		memcpy(p, segs[i], l);
		p += l;
		*p = 0;
	}
	return s;
}

static uint32_t seq_of_stack(struct walk *w);

uint32_t walk_path_seq(struct walk *w)
{
	if (w->memo_ver != w->seq_ver || w->memo_ver == 0) {
		w->memo_seq = seq_of_stack(w);
		w->memo_ver = w->seq_ver;
	}
	return w->memo_seq;
}

static uint32_t seq_of_stack(struct walk *w)
{
	uint64_t h = (uint64_t)w->nseg;
	for (int i = 0; i < w->nseg; i++)
		h = mix(h, (uint64_t)(uintptr_t)w->seg[i]);
	struct walk_seq_key key = {w->seg, (uint32_t)w->nseg, h};
	struct walk_seq_ent *e = walk_seq_index_find(&w->paths, key);
	if (e)
		return e->seq;
	if (w->seqs.len >= WALK_SEQ_MAX || !walk_seq_index_reserve(&w->paths, w->paths.len + 1) ||
	    !walk_seq_vec_reserve(&w->seqs, w->seqs.len + 1))
		return 0;
	const char **copy = malloc(sizeof(char *) * (size_t)(w->nseg + 1));
	if (!copy)
		return 0;
	memcpy(copy, w->seg, sizeof(char *) * (size_t)w->nseg);
	uint32_t id = intern_name(w, join(w->seg, w->nseg));
	uint32_t seq = (uint32_t)w->seqs.len++;
	w->seqs.data[seq] = (struct walk_seq){.segs = copy, .n = (uint32_t)w->nseg, .name = id};
	key.segs = copy;
	e = walk_seq_index_insert(&w->paths, key, NULL);
	e->key = key;
	e->seq = seq;
	return seq;
}

uint32_t walk_path_current(struct walk *w)
{
	uint32_t seq = walk_path_seq(w);
	return seq < w->seqs.len ? w->seqs.data[seq].name : WALK_PATH_ROOT;
}

void walk_path_restore(struct walk *w, uint32_t seq)
{
	w->nseg = 0;
	w->seq_ver++;
	if (seq >= w->seqs.len)
		return;
	uint32_t n = w->seqs.data[seq].n;
	if (n > WALK_MAX_DEPTH)
		n = WALK_MAX_DEPTH;
	memcpy(w->seg, w->seqs.data[seq].segs, sizeof(char *) * n);
	w->nseg = (int)n;
	w->seq_ver++;
}

uint32_t walk_path_child(struct walk *w, uint32_t parent, const char *segment)
{
	const char *segs[2];
	int n = 0;
	if (parent != UINT32_MAX && parent < w->names.len && w->names.data[parent][0])
		segs[n++] = w->names.data[parent];
	if (segment && *segment)
		segs[n++] = segment;
	return intern_name(w, join(segs, n));
}

const char *walk_path_name(const struct walk *w, uint32_t path)
{
	return path < w->names.len ? w->names.data[path] : "?";
}


void walk_path_free(struct walk *w)
{
	for (size_t i = 0; i < w->seqs.len; i++)
		free(w->seqs.data[i].segs);
	walk_seq_vec_deinit(&w->seqs);
	walk_seq_index_deinit(&w->paths);
	for (size_t i = 0; i < w->names.len; i++)
		free(w->names.data[i]);
	walk_name_vec_deinit(&w->names);
	walk_name_index_deinit(&w->name_ht);
}
