/* heap_glibc.c: the version table of glibc malloc (x86-64) and the record
 * of what the core showed (see heap_glibc.h).
 *
 * One row per release family, oldest first.  What changed, from glibc's
 * malloc/malloc.c and malloc/arena.c history:
 *   2.26  tcache appears: tcache_perthread_struct { char counts[64];
 *         tcache_entry *entries[64]; } = 576 bytes, a 0x250-byte chunk;
 *         malloc_state { int mutex; int flags; fastbinsY[10]; top; ... }.
 *   2.27  malloc_state gains `int have_fastchunks` after flags (with its
 *         padding every later member moves 8 bytes: fastbinsY at 16).
 *   2.29  tcache_entry gains `key`, set to the owning tcache on free
 *         (double-free check).
 *   2.30  counts[] become uint16_t: 640 bytes, a 0x290-byte chunk.
 *   2.32  safe-linking: tcache and fastbin links are stored as
 *         PROTECT_PTR(pos, ptr) = (pos >> 12) ^ ptr.
 *   2.33  mallinfo2 (the census counts as it does; mallinfo before it has
 *         the same figures in int fields).
 *   2.34  tcache_entry.key becomes one random tcache_key per process.
 *   2.35  heap_info gains `pagesize` (32 -> 48 bytes); malloc_par gains
 *         thp_pagesize, hp_pagesize and hp_flags before n_mmaps.
 *   up to 2.41 nothing else the census reads (2.42 adds large tcache bins:
 *         not in the table, its tcache is not recognised).
 * The 2.36 offsets were confirmed with gdb `ptype /o` against Debian's
 * libc6-dbg 2.36-9; 2.31 and 2.41 are exercised by the test matrix
 * (tests/setup.d/35-glibc-matrix.sh); the other rows follow from the
 * changes above.
 */
#include "heap_int.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

static const struct glibc_ms_layout ms_226 = {
	.name = "no have_fastchunks (2.26)",
	.fastbins = 8, .top = 88, .bins = 104, .next = 2152, .system_mem = 2176, .max_system_mem = 2184,
	.size = 2192,
};
static const struct glibc_ms_layout ms_227 = {
	.name = "have_fastchunks after flags (>= 2.27)",
	.fastbins = 16, .top = 96, .bins = 112, .next = 2160, .system_mem = 2184, .max_system_mem = 2192,
	.size = 2200,
};

static const struct glibc_mp_layout mp_226 = {
	.name = "n_mmaps right after arena_max (2.26-2.34)",
	.n_mmaps = 40, .max_n_mmaps = 48, .mmapped_mem = 56, .max_mmapped_mem = 64, .sbrk_base = 72,
	.tcache_bins = 80, .tcache_max_bytes = 88, .tcache_count = 96, .size = 112,
};
static const struct glibc_mp_layout mp_235 = {
	.name = "thp_pagesize, hp_pagesize, hp_flags before n_mmaps (>= 2.35)",
	.n_mmaps = 60, .max_n_mmaps = 68, .mmapped_mem = 80, .max_mmapped_mem = 88, .sbrk_base = 96,
	.tcache_bins = 104, .tcache_max_bytes = 112, .tcache_count = 120, .size = 136,
};

static const struct glibc_hinfo_layout hi_226 = {
	.name = "32 bytes, no pagesize (< 2.35)", .size = 32, .pagesize = -1,
};
static const struct glibc_hinfo_layout hi_235 = {
	.name = "48 bytes, pagesize at +32 (>= 2.35)", .size = 48, .pagesize = 32,
};

static const struct glibc_tc_layout tc_char = {
	.name = "char counts[64], 0x250-byte chunk (2.26-2.29)",
	.count_size = 1, .struct_size = 576, .chunk_size = 592,
};
static const struct glibc_tc_layout tc_u16 = {
	.name = "uint16_t counts[64], 0x290-byte chunk (>= 2.30)",
	.count_size = 2, .struct_size = 640, .chunk_size = 656,
};

const struct glibc_family glibc_families[] = {
	{ "2.26", &ms_226, &hi_226, &mp_226, &tc_char, false, GLIBC_KEY_NONE },
	{ "2.27-2.28", &ms_227, &hi_226, &mp_226, &tc_char, false, GLIBC_KEY_NONE },
	{ "2.29", &ms_227, &hi_226, &mp_226, &tc_char, false, GLIBC_KEY_TCACHE },
	{ "2.30-2.31", &ms_227, &hi_226, &mp_226, &tc_u16, false, GLIBC_KEY_TCACHE },
	{ "2.32-2.33", &ms_227, &hi_226, &mp_226, &tc_u16, true, GLIBC_KEY_TCACHE },
	{ "2.34", &ms_227, &hi_226, &mp_226, &tc_u16, true, GLIBC_KEY_RANDOM },
	{ "2.35-2.41", &ms_227, &hi_235, &mp_235, &tc_u16, true, GLIBC_KEY_RANDOM },
};
const size_t glibc_nfamilies = sizeof glibc_families / sizeof glibc_families[0];

/* Newest first: a core that fits both is read as the newer one. */
const struct glibc_ms_layout *const glibc_ms_layouts[] = { &ms_227, &ms_226 };
const size_t glibc_n_ms_layouts = 2;
const struct glibc_mp_layout *const glibc_mp_layouts[] = { &mp_235, &mp_226 };
const size_t glibc_n_mp_layouts = 2;
const struct glibc_tc_layout *const glibc_tc_layouts[] = { &tc_u16, &tc_char };
const size_t glibc_n_tc_layouts = 2;
const struct glibc_hinfo_layout *const glibc_hinfo_layouts[] = { &hi_235, &hi_226 };
const size_t glibc_n_hinfo_layouts = 2;

#define ROWS_WHERE(cond)                                          \
	do {                                                      \
		uint32_t m = 0;                                   \
		for (size_t i = 0; i < glibc_nfamilies; i++) {    \
			const struct glibc_family *f = &glibc_families[i]; \
			if (cond)                                 \
				m |= 1u << i;                     \
		}                                                 \
		return m;                                         \
	} while (0)

uint32_t glibc_rows_ms(const struct glibc_ms_layout *l) { ROWS_WHERE(f->ms == l); }
uint32_t glibc_rows_mp(const struct glibc_mp_layout *l) { ROWS_WHERE(f->mp == l); }
uint32_t glibc_rows_tc(const struct glibc_tc_layout *l) { ROWS_WHERE(f->tc == l); }
uint32_t glibc_rows_hinfo(const struct glibc_hinfo_layout *l) { ROWS_WHERE(f->hinfo == l); }
uint32_t glibc_rows_safe_linking(bool on) { ROWS_WHERE(f->safe_linking == on); }
uint32_t glibc_rows_key(enum glibc_key k) { ROWS_WHERE(f->key == k); }

const char *glibc_safe_linking_name(bool on)
{
	return on ? "on: links are (pos >> 12) ^ ptr (>= 2.32)" : "off: plain links (< 2.32)";
}

const char *glibc_key_name(enum glibc_key k)
{
	return k == GLIBC_KEY_TCACHE ? "its tcache (2.29-2.33)" :
	       k == GLIBC_KEY_RANDOM ? "random tcache_key (>= 2.34)" : "none (< 2.29)";
}

void glibc_rows_name(uint32_t rows, char *buf, size_t n)
{
	size_t lo = SIZE_MAX, hi = 0;

	for (size_t i = 0; i < glibc_nfamilies; i++)
		if (rows & (1u << i)) {
			if (lo == SIZE_MAX)
				lo = i;
			hi = i;
		}
	if (lo == SIZE_MAX) {
		snprintf(buf, n, "none");
		return;
	}
	/* "2.27-2.28" .. "2.35-2.41" -> "2.27-2.41" */
	const char *a = glibc_families[lo].name, *b = glibc_families[hi].name, *dash = strchr(b, '-');
	size_t alen = strchr(a, '-') ? (size_t)(strchr(a, '-') - a) : strlen(a);
	if (lo == hi)
		snprintf(buf, n, "%s", a);
	else
		snprintf(buf, n, "%.*s-%s", (int)alen, a, dash ? dash + 1 : b);
}

int heap_glibc_note(struct heap *h, uint32_t rows, const char *what, const char *value, const char *fmt, ...)
{
	char ev[sizeof h->versions.data[0].evidence], was[48], now[48];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(ev, sizeof ev, fmt, ap);
	va_end(ap);
	if (rows && !(h->glibc_rows & rows)) {
		glibc_rows_name(h->glibc_rows, was, sizeof was);
		glibc_rows_name(rows, now, sizeof now);
		h->glibc_conflict = true;
		/* kept, and named in the summary fact */
		snprintf(h->glibc_conflict_what, sizeof h->glibc_conflict_what,
			 "%s says %s where the other facts say %s", what, now, was);
	} else if (rows) {
		h->glibc_rows &= rows;
	}
	return version_note(&h->versions, "glibc", what, value, "%s", ev) ? 0 : ERR_NOMEM;
}

int heap_glibc_summary(struct heap *h)
{
	char rows[48];

	glibc_rows_name(h->glibc_rows, rows, sizeof rows);
	if (h->glibc_conflict)
		return heap_glibc_note(h, 0, "malloc release", "inconsistent", "%s (kept: %s)",
				       h->glibc_conflict_what, rows);
	return heap_glibc_note(h, 0, "malloc release", rows,
			       "the rows of the table (src/heap_glibc.c) that every fact above agrees with");
}
