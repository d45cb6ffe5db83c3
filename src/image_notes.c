/* image_notes.c: reads a core's notes (PT_NOTE segments) into the image:
 * threads and registers (NT_PRSTATUS), the process name (NT_PRPSINFO), the
 * auxiliary vector (NT_AUXV), the file mappings (NT_FILE) that back reads
 * the core did not dump, and which dumper wrote the core (gdb adds
 * NT_GDB_TDESC).  Every size and count comes from the core and is checked
 * against the note that holds it before anything is read or allocated.
 */
#include "image_priv.h"
#include "arr.h"

#include <elf.h>
#include <stdlib.h>
#include <string.h>

static uint32_t rd32(const uint8_t *p)
{
	uint32_t v;
	memcpy(&v, p, sizeof v);
	return v;
}

static uint64_t rd64(const uint8_t *p)
{
	uint64_t v;
	memcpy(&v, p, sizeof v);
	return v;
}

static uint64_t align_up(uint64_t v, uint64_t a)
{
	return (v + a - 1) & ~(a - 1);
}

int image_note_next(const uint8_t *p, uint64_t len, uint64_t align, uint64_t *off,
		    struct image_note *n)
{
	uint64_t o = *off;

	if (o >= len || len - o < 12)
		return 0;
	n->namesz = rd32(p + o);
	n->descsz = rd32(p + o + 4);
	n->type = rd32(p + o + 8);
	o += 12;
	/* namesz/descsz are u32, so the aligned sizes cannot overflow a u64. */
	if (align_up(n->namesz, align) > len - o)
		return -1;
	n->name = (const char *)(p + o);
	o += align_up(n->namesz, align);
	if (n->descsz > len - o)
		return -1;
	n->desc = p + o;
	/* The last note's padding may be missing. */
	o = align_up(n->descsz, align) > len - o ? len : o + align_up(n->descsz, align);
	*off = o;
	return 1;
}

bool image_note_is(const struct image_note *n, const char *name, uint32_t type)
{
	size_t l = strlen(name);
	return n->type == type && n->namesz >= l && memcmp(n->name, name, l) == 0 &&
	       (n->namesz == l || n->name[l] == '\0');
}

void image_build_id_hex(const uint8_t *id, size_t len, char *out)
{
	static const char digits[] = "0123456789abcdef";

	if (len > IMAGE_BUILD_ID_MAX)
		len = IMAGE_BUILD_ID_MAX;
	for (size_t i = 0; i < len; i++) {
		out[2 * i] = digits[id[i] >> 4];
		out[2 * i + 1] = digits[id[i] & 15];
	}
	out[2 * len] = '\0';
}

static int notes_thread(struct image *img, const struct image_note *n, size_t *cap,
			struct err *e)
{
	if (n->descsz < IMAGE_PRSTATUS_MIN)
		return err_set(e, ERR_INPUT,
			       "core note NT_PRSTATUS has %u bytes, expected at least %d; the core is damaged",
			       n->descsz, IMAGE_PRSTATUS_MIN);
	if (!arr_grow((void **)&img->threads, cap, img->nthreads + 1, sizeof *img->threads, 8))
		return err_set(e, ERR_NOMEM, "out of memory reading %zu threads", img->nthreads + 1);
	struct image_thread *t = &img->threads[img->nthreads++];
	memset(t, 0, sizeof *t);
	int32_t pid;
	memcpy(&pid, n->desc + IMAGE_PRSTATUS_PID, sizeof pid);
	t->pid = pid;
	memcpy(t->regs, n->desc + IMAGE_PRSTATUS_REGS, sizeof t->regs);
	t->rip = t->regs[IMAGE_REG_RIP];
	t->rsp = t->regs[IMAGE_REG_RSP];
	t->rbp = t->regs[IMAGE_REG_RBP];
	t->fs_base = t->regs[IMAGE_REG_FS_BASE];
	return 0;
}

static void notes_psinfo(struct image *img, const struct image_note *n)
{
	if (n->descsz < IMAGE_PRPSINFO_FNAME + 16)
		return;
	memcpy(img->process_name, n->desc + IMAGE_PRPSINFO_FNAME, 16);
	img->process_name[16] = '\0';
}

static int map_cmp(const void *a, const void *b)
{
	const struct image_map *x = a, *y = b;
	return x->start < y->start ? -1 : x->start > y->start;
}

/* NT_FILE: u64 count, u64 page_size, count x {start, end, pgoff}, then count
 * NUL-terminated paths (linux fs/binfmt_elf.c fill_files_note). */
static int notes_file(struct image *img, const struct image_note *n, struct err *e)
{
	const uint64_t dsz = n->descsz;

	if (dsz < 16)
		return err_set(e, ERR_INPUT, "core note NT_FILE is %u bytes, too short; the core is damaged",
			       n->descsz);
	uint64_t count = rd64(n->desc), page = rd64(n->desc + 8);
	if (count > (dsz - 16) / 24)
		return err_set(e, ERR_INPUT,
			       "core note NT_FILE claims %llu mappings but holds at most %llu; the core is damaged",
			       (unsigned long long)count, (unsigned long long)((dsz - 16) / 24));
	/* gcore writes 1 (offsets in bytes), the kernel its page size. */
	if (page == 0 || page > (1u << 30))
		return err_set(e, ERR_INPUT, "core note NT_FILE has page size %llu; the core is damaged",
			       (unsigned long long)page);
	img->nt_file_page = page;
	if (count == 0)
		return 0;
	img->maps = calloc(count, sizeof *img->maps);
	img->files = calloc(count, sizeof *img->files);
	if (!img->maps || !img->files)
		return err_set(e, ERR_NOMEM, "out of memory for %llu file mappings",
			       (unsigned long long)count);
	const char *s = (const char *)n->desc + 16 + 24 * count;
	const char *end = (const char *)n->desc + dsz;
	for (uint64_t i = 0; i < count; i++) {
		const uint8_t *t = n->desc + 16 + 24 * i;
		uint64_t start = rd64(t), stop = rd64(t + 8), pgoff = rd64(t + 16);
		const char *nul = s < end ? memchr(s, '\0', (size_t)(end - s)) : NULL;
		if (!nul)
			return err_set(e, ERR_INPUT,
				       "core note NT_FILE has %llu mappings but fewer paths; the core is damaged",
				       (unsigned long long)count);
		if (stop <= start || pgoff > UINT64_MAX / page ||
		    pgoff * page > UINT64_MAX - (stop - start))
			return err_set(e, ERR_INPUT,
				       "core note NT_FILE entry %llu [0x%llx, 0x%llx) offset %llu pages is impossible; the core is damaged",
				       (unsigned long long)i, (unsigned long long)start,
				       (unsigned long long)stop, (unsigned long long)pgoff);
		/* Entries of one file come together: share its file record. */
		if (img->nfiles == 0 || strcmp(img->files[img->nfiles - 1].path, s) != 0)
			img->files[img->nfiles++].path = s;
		img->maps[img->nmaps++] = (struct image_map){
			.start = start, .end = stop, .offset = pgoff * page, .file = img->nfiles - 1};
		s = nul + 1;
	}
	if (img->nmaps > 1)   /* qsort must not see a NULL array, even empty */
		qsort(img->maps, img->nmaps, sizeof *img->maps, map_cmp);
	return 0;
}

static int notes_one(struct image *img, const struct image_note *n, size_t *cap, bool *have_file,
		     struct err *e)
{
	if (image_note_is(n, "CORE", NT_PRSTATUS))
		return notes_thread(img, n, cap, e);
	if (image_note_is(n, "CORE", NT_PRPSINFO))
		notes_psinfo(img, n);
	else if (image_note_is(n, "CORE", NT_AUXV) && !img->auxv) {
		img->auxv = n->desc;
		img->nauxv = n->descsz / 16;
	} else if (image_note_is(n, "CORE", IMAGE_NT_FILE) && !*have_file) {
		*have_file = true;
		return notes_file(img, n, e);
	} else if (n->type == IMAGE_NT_GDB_TDESC)
		img->gdb_tdesc = true;
	return 0;
}

int image_notes_load(struct image *img, struct err *e)
{
	size_t cap = 0;
	bool have_file = false;

	for (size_t i = 0; i < img->nnote_segs; i++) {
		/* image_load_segments checked the segment lies in the file. */
		const struct image_note_seg *ns = &img->note_segs[i];
		const uint8_t *p = img->core + ns->offset;
		uint64_t off = 0;
		struct image_note n;
		int r;
		while ((r = image_note_next(p, ns->size, 4, &off, &n)) > 0) {
			int rc = notes_one(img, &n, &cap, &have_file, e);
			if (rc)
				return rc;
		}
		if (r < 0)
			return err_set(e, ERR_INPUT,
				       "core note at offset 0x%llx runs past its segment (name %u, desc %u bytes); the core is damaged",
				       (unsigned long long)(ns->offset + off), n.namesz, n.descsz);
	}
	if (img->nthreads > 0)
		memcpy(img->threads[0].name, img->process_name, sizeof img->threads[0].name);
	return 0;
}
