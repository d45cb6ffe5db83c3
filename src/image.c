/* image.c: the process memory of an ELF core (see include/image.h).
 *
 * The core is mmapped read-only and its program headers read with libelf.
 * The PT_LOADs become a sorted, disjoint array searched by binary search;
 * image_ptr is that search plus one bounds check, because the walker calls
 * it for nearly every object.  A read that the core cannot satisfy falls
 * back, piece by piece, to the file NT_FILE names for the address (text and
 * unmodified read-only pages, which neither gcore nor the kernel write), and
 * then to zeros for memory a PT_LOAD covers but the dumper left out.
 *
 * Backing files are opened on first use and stay mmapped until image_close,
 * so reads mutate the file table behind a const struct image: an image must
 * not be read from two threads at once.
 */
#include "image_priv.h"
#include "sorted.h"

#include <elf.h>
#include <errno.h>
#include <fcntl.h>
#include <gelf.h>
#include <libelf.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

int image_map_file(const char *path, const uint8_t **map, uint64_t *size)
{
	struct stat st;
	/* O_NONBLOCK: a path from a hostile core may name a FIFO. */
	int fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK);
	int rc = 0;

	*map = NULL;
	*size = 0;
	if (fd < 0)
		return errno;
	if (fstat(fd, &st) != 0)
		rc = errno;
	else if (!S_ISREG(st.st_mode))
		rc = IMAGE_NOT_REGULAR;
	else if (st.st_size > 0) {
		void *p = mmap(NULL, (size_t)st.st_size, PROT_READ, MAP_PRIVATE, fd, 0);
		if (p == MAP_FAILED)
			rc = errno;
		else {
			*map = p;
			*size = (uint64_t)st.st_size;
		}
	}
	close(fd);
	return rc;
}

const char *image_map_error(int rc)
{
	return rc == IMAGE_NOT_REGULAR ? "not a regular file" : strerror(rc);
}

size_t image_seg_upper(const struct image *img, uint64_t addr)
{
	return sorted_upper_bound(img->segs, img->nsegs, sizeof *img->segs,
				  offsetof(struct image_seg, pub.start), addr);
}

size_t image_map_upper(const struct image *img, uint64_t addr)
{
	return sorted_upper_bound(img->maps, img->nmaps, sizeof *img->maps, offsetof(struct image_map, start), addr);
}

static int seg_cmp(const void *a, const void *b)
{
	const struct image_seg *x = a, *y = b;
	return x->pub.start < y->pub.start ? -1 : x->pub.start > y->pub.start;
}

static uint32_t seg_flags(uint32_t p_flags)
{
	return (p_flags & PF_R ? IMAGE_R : 0) | (p_flags & PF_W ? IMAGE_W : 0) |
	       (p_flags & PF_X ? IMAGE_X : 0);
}

/* The PT_LOADs, checked against the file size and each other, sorted. */
static int image_load_segments(struct image *img, Elf *elf, struct err *e)
{
	size_t phnum;

	if (elf_getphdrnum(elf, &phnum) != 0)
		return err_set(e, ERR_INPUT, "%s: cannot read the program headers (%s); the core is damaged",
			       img->core_path, elf_errmsg(-1));
	img->segs = calloc(phnum ? phnum : 1, sizeof *img->segs);
	img->note_segs = calloc(phnum ? phnum : 1, sizeof *img->note_segs);
	if (!img->segs || !img->note_segs)
		return err_set(e, ERR_NOMEM, "out of memory for %zu segments", phnum);
	for (size_t i = 0; i < phnum; i++) {
		GElf_Phdr ph;
		if (!gelf_getphdr(elf, (int)i, &ph))
			return err_set(e, ERR_INPUT, "%s: cannot read program header %zu (%s); the core is damaged",
				       img->core_path, i, elf_errmsg(-1));
		if ((ph.p_type != PT_LOAD && ph.p_type != PT_NOTE) || (ph.p_type == PT_LOAD && ph.p_memsz == 0))
			continue;
		if (ph.p_offset > img->core_size || ph.p_filesz > img->core_size - ph.p_offset)
			return err_set(e, ERR_INPUT,
				       "core truncated: %s at 0x%llx needs %llu bytes, file has %llu; re-take the snapshot",
				       ph.p_type == PT_NOTE ? "note segment" : "segment",
				       (unsigned long long)(ph.p_type == PT_NOTE ? ph.p_offset : ph.p_vaddr),
				       (unsigned long long)(ph.p_offset + ph.p_filesz),
				       (unsigned long long)img->core_size);
		if (ph.p_type == PT_NOTE) {
			img->note_segs[img->nnote_segs++] = (struct image_note_seg){ph.p_offset, ph.p_filesz};
			continue;
		}
		if (ph.p_filesz > ph.p_memsz || ph.p_memsz > UINT64_MAX - ph.p_vaddr)
			return err_set(e, ERR_INPUT,
				       "core segment at 0x%llx has file size %llu and memory size %llu, which is impossible; the core is damaged",
				       (unsigned long long)ph.p_vaddr, (unsigned long long)ph.p_filesz,
				       (unsigned long long)ph.p_memsz);
		img->segs[img->nsegs++] = (struct image_seg){
			.pub = {.start = ph.p_vaddr, .end = ph.p_vaddr + ph.p_memsz,
				.flags = seg_flags(ph.p_flags), .filesz = ph.p_filesz},
			.offset = ph.p_offset};
	}
	qsort(img->segs, img->nsegs, sizeof *img->segs, seg_cmp);
	for (size_t i = 1; i < img->nsegs; i++)
		if (img->segs[i].pub.start < img->segs[i - 1].pub.end)
			return err_set(e, ERR_INPUT,
				       "core segments at 0x%llx and 0x%llx overlap; the core is damaged",
				       (unsigned long long)img->segs[i - 1].pub.start,
				       (unsigned long long)img->segs[i].pub.start);
	return 0;
}

/* Names each segment's backing file, for the layers that look for a
 * library's mappings (the heap layer finds libc's data this way). */
static void image_label_segments(struct image *img)
{
	for (size_t i = 0; i < img->nsegs; i++) {
		struct image_segment *s = &img->segs[i].pub;
		size_t u = image_map_upper(img, s->start);
		if (u == 0 || s->start >= img->maps[u - 1].end)
			continue;
		const struct image_map *m = &img->maps[u - 1];
		s->file = img->files[m->file].path;
		s->file_offset = m->offset + (s->start - m->start);
	}
}

const char *image_elf_kind(unsigned e_type)
{
	switch (e_type) {
	case ET_REL:
		return "an ELF object file";
	case ET_EXEC:
		return "an ELF executable";
	case ET_DYN:
		return "an ELF shared object or PIE executable";
	case ET_CORE:
		return "an ELF core dump";
	default:
		return "an ELF file of unknown type";
	}
}

/* Maps the core and checks it is an x86-64 ELF core before libelf sees it
 * (libelf reads native-order files in place, and the mapping is read-only). */
static int image_map_core(struct image *img, struct err *e)
{
	int rc = image_map_file(img->core_path, &img->core, &img->core_size);
	if (rc)
		return err_set(e, ERR_INPUT, "cannot read core %s: %s", img->core_path, image_map_error(rc));
	img->zformat = image_zcore_kind(img->core, img->core_size);
	if (img->zformat) {
		const uint8_t *z = img->core;
		uint64_t zn = img->core_size;
		img->core = NULL;
		img->core_size = 0;
		rc = image_zcore_decompress(img->core_path, z, zn, &img->core, &img->core_size, e);
		munmap((void *)z, zn);
		if (rc)
			return rc;
		img->core_anon = true;
	}
	if (img->core_size < sizeof(Elf64_Ehdr) || memcmp(img->core, ELFMAG, SELFMAG) != 0)
		return err_set(e, ERR_INPUT,
			       "%s is not an ELF core file; pass a core dump (kernel core or gcore) first, then the executable",
			       img->core_path);
	if (img->core[EI_CLASS] != ELFCLASS64 || img->core[EI_DATA] != ELFDATA2LSB)
		return err_set(e, ERR_INPUT, "%s is not a 64-bit little-endian ELF file; only x86-64 cores are supported",
			       img->core_path);
	Elf64_Ehdr eh;
	memcpy(&eh, img->core, sizeof eh);
	if (eh.e_type != ET_CORE)
		return err_set(e, ERR_INPUT,
			       "%s is %s, not a core dump; pass the core first, then the executable",
			       img->core_path, image_elf_kind(eh.e_type));
	if (eh.e_machine != EM_X86_64)
		return err_set(e, ERR_INPUT, "%s is a core for machine %u, not x86-64; only x86-64 cores are supported",
			       img->core_path, eh.e_machine);
	img->machine = eh.e_machine;
	return 0;
}

static int image_open_core(struct image *img, struct err *e)
{
	int rc = image_map_core(img, e);
	if (rc)
		return rc;
	/* image_pread's descriptor, opened here so that image_pread changes
	 * nothing and may run on any thread (-1: pread copies nothing) */
	if (!img->core_anon)
		img->win->fd = open(img->core_path, O_RDONLY | O_CLOEXEC);
	elf_version(EV_CURRENT);
	Elf *elf = elf_memory((char *)img->core, img->core_size);
	if (!elf)
		return err_set(e, ERR_INPUT, "%s: libelf cannot read it (%s); the core is damaged",
			       img->core_path, elf_errmsg(-1));
	rc = image_load_segments(img, elf, e);
	elf_end(elf);
	if (rc)
		return rc;
	rc = image_notes_load(img, e);
	if (rc)
		return rc;
	image_label_segments(img);
	return 0;
}

static void image_files_open(struct image *img);

static char *dup_or_null(const char *s)
{
	return s ? strdup(s) : NULL;
}

int image_open(struct image **out, const char *core_path, const char *exe_path, struct err *e)
{
	struct image *img = calloc(1, sizeof *img);
	int rc;

	*out = NULL;
	if (!img)
		return err_set(e, ERR_NOMEM, "out of memory opening %s", core_path);
	img->core_path = dup_or_null(core_path);
	img->exe_path = dup_or_null(exe_path);
	img->win = calloc(1, sizeof *img->win);
	if (img->win)
		img->win->fd = -1;
	if (!img->core_path || (exe_path && !img->exe_path) || !img->win) {
		image_close(img);
		return err_set(e, ERR_NOMEM, "out of memory opening %s", core_path);
	}
	rc = image_open_core(img, e);
	if (!rc)
		rc = image_exe_load(img, exe_path, e);
	if (rc) {
		image_close(img);
		return rc;
	}
	image_files_open(img);
	*out = img;
	return 0;
}

int image_open_auto(struct image **out, const char *core_path, struct err *e)
{
	struct image *img = calloc(1, sizeof *img);
	char exe[4096];
	int rc;

	*out = NULL;
	if (!img)
		return err_set(e, ERR_NOMEM, "out of memory opening %s", core_path);
	img->core_path = strdup(core_path);
	img->win = calloc(1, sizeof *img->win);
	if (img->win)
		img->win->fd = -1;
	if (!img->core_path || !img->win) {
		image_close(img);
		return err_set(e, ERR_NOMEM, "out of memory opening %s", core_path);
	}
	rc = image_open_core(img, e);
	if (!rc)
		rc = image_exe_find(img, exe, sizeof exe, e);
	if (!rc && !(img->exe_path = strdup(exe)))
		rc = err_set(e, ERR_NOMEM, "out of memory opening %s", core_path);
	if (!rc)
		rc = image_exe_load(img, exe, e);
	if (rc) {
		image_close(img);
		return rc;
	}
	image_files_open(img);
	*out = img;
	return 0;
}

int image_open_pid(struct image **out, int pid, const char *exe_path, struct image_pid_stats *st,
		   struct err *e)
{
	struct image *img = calloc(1, sizeof *img);
	char exe[64], core[64];
	int rc;

	*out = NULL;
	if (!img)
		return err_set(e, ERR_NOMEM, "out of memory opening process %d", pid);
	snprintf(core, sizeof core, "pid %d", pid);
	snprintf(exe, sizeof exe, "/proc/%d/exe", pid);
	img->core_path = strdup(core);
	img->exe_path = strdup(exe_path ? exe_path : exe);
	img->win = calloc(1, sizeof *img->win);
	if (img->win)
		img->win->fd = -1;
	if (!img->core_path || !img->exe_path || !img->win) {
		image_close(img);
		return err_set(e, ERR_NOMEM, "out of memory opening process %d", pid);
	}
	img->machine = EM_X86_64;
	rc = image_pid_load(img, pid, st, e);
	if (!rc) {
		image_label_segments(img);
		rc = image_exe_load(img, img->exe_path, e);
	}
	if (rc) {
		image_close(img);
		return rc;
	}
	image_files_open(img);
	*out = img;
	return 0;
}

void image_close(struct image *img)
{
	if (!img)
		return;
	free(img->owned_text);
	free(img->owned_auxv);
	for (size_t i = 0; i < img->nfiles; i++) {
		const struct image_file *f = &img->files[i];
		if (f->state == IMAGE_FILE_OPEN && !f->is_exe && f->map)
			munmap((void *)f->map, f->size);
	}
	image_exe_unload(img);
	if (img->core)
		munmap((void *)img->core, img->core_size);
	if (img->win) {
		if (img->win->fd >= 0)
			close(img->win->fd);
		free(img->win->buf);
		free(img->win);
	}
	free(img->segs);
	free(img->note_segs);
	free(img->maps);
	free(img->files);
	free(img->threads);
	free(img->core_path);
	free(img->exe_path);
	free(img);
}

/* ---- reads ---- */

/* Where the bytes from one address on come from, and for how long. */
/* ZERO: the process saw zeros (past a mapped file's end); MISSING: a part of
 * a segment the core does not hold and no file backs (the process may have
 * seen anything there: image_read faults, image_read_zerofill counts it). */
enum piece_kind { PIECE_CORE, PIECE_FILE, PIECE_ZERO, PIECE_MISSING };
struct piece {
	enum piece_kind kind;
	const uint8_t *src; /* CORE and FILE */
	uint64_t len;       /* > 0 */
};

static uint64_t min_u64(uint64_t a, uint64_t b)
{
	return a < b ? a : b;
}

/* A library on this machine may not be the one the process mapped (cores
 * travel): when both the file and the core's copy of its ELF header page
 * carry a build-id, they must agree, or its bytes would be silently wrong. */
static bool file_is_stale(const struct image *img, size_t fi, const struct image_file *f)
{
	char core_id[2 * IMAGE_BUILD_ID_MAX + 1], file_id[2 * IMAGE_BUILD_ID_MAX + 1];
	uint64_t base;

	if (!f->map || image_file_build_id(f->map, f->size, file_id) != 1 ||
	    !image_file_base(img, fi, &base) || image_core_page_build_id(img, base, core_id) != 1)
		return false;
	return strcmp(core_id, file_id) != 0;
}

/* Opens (and checks) every file NT_FILE names that the executable given
 * does not back.  Done once at open, after the executable is attached, so
 * that every read through a const image changes nothing (and may run on
 * any thread): a file that cannot be opened, or is stale, is a fault at
 * the read that needs it, with its reason. */
static void image_files_open(struct image *img)
{
	for (size_t i = 0; i < img->nfiles; i++) {
		struct image_file *f = &img->files[i];
		if (f->state != IMAGE_FILE_UNTRIED)
			continue;
		f->errnum = image_map_file(f->path, &f->map, &f->size);
		f->state = f->errnum ? IMAGE_FILE_FAILED : IMAGE_FILE_OPEN;
		if (f->state == IMAGE_FILE_OPEN && file_is_stale(img, i, f)) {
			munmap((void *)f->map, f->size);
			f->map = NULL;
			f->size = 0;
			f->stale = true;
			f->state = IMAGE_FILE_FAILED;
		}
	}
}

/* The file behind map m (opened at open: image_files_open). */
static const struct image_file *image_file_get(const struct image *img, const struct image_map *m)
{
	return &img->files[m->file];
}

/* The piece of a file mapping at addr: 1 found, 0 past the file's last page
 * (the caller decides between zeros and a fault), or ERR_FAULT. */
static int piece_from_file(const struct image *img, const struct image_map *m, uint64_t addr,
			   uint64_t limit, struct piece *pc, struct err *e)
{
	const struct image_file *f = image_file_get(img, m);
	if (f->stale)
		return err_fault(e, addr,
				 "0x%llx is not in the core and %s on this machine is not the file the process mapped (its build-id differs from the core's copy); put the process's copy at that path",
				 (unsigned long long)addr, f->path);
	if (f->state == IMAGE_FILE_UNTRIED)   /* a read while the image is being opened */
		return err_fault(e, addr, "0x%llx is not in the core and its file %s is not open yet",
				 (unsigned long long)addr, f->path);
	if (f->state == IMAGE_FILE_FAILED)
		return err_fault(e, addr,
				 "0x%llx is not in the core and its file %s cannot be read (%s); put that file (the one the process mapped) at that path",
				 (unsigned long long)addr, f->path, image_map_error(f->errnum));
	uint64_t off = m->offset + (addr - m->start); /* no overflow: checked in notes_file */
	uint64_t len = min_u64(m->end - addr, limit);
	if (off < f->size) {
		*pc = (struct piece){PIECE_FILE, f->map + off, min_u64(len, f->size - off)};
		return 1;
	}
	/* The process saw zeros from the file's end to the end of that page. */
	uint64_t page_end = (f->size + IMAGE_PAGE - 1) / IMAGE_PAGE * IMAGE_PAGE;
	if (off < page_end) {
		*pc = (struct piece){PIECE_ZERO, NULL, min_u64(len, page_end - off)};
		return 1;
	}
	return 0;
}

static int image_piece(const struct image *img, uint64_t addr, struct piece *pc, struct err *e)
{
	size_t su = image_seg_upper(img, addr);
	const struct image_seg *s = su ? &img->segs[su - 1] : NULL;
	if (s && addr >= s->pub.end)
		s = NULL;
	if (s && addr - s->pub.start < s->pub.filesz) {
		uint64_t off = addr - s->pub.start;
		*pc = (struct piece){PIECE_CORE, img->core + s->offset + off, s->pub.filesz - off};
		return 0;
	}
	/* The core's own bytes take precedence: stop a file or zero piece where
	 * the next segment starts. */
	uint64_t limit = s ? s->pub.end - addr
		       : su < img->nsegs ? img->segs[su].pub.start - addr : UINT64_MAX;
	size_t mu = image_map_upper(img, addr);
	if (mu && addr < img->maps[mu - 1].end) {
		int r = piece_from_file(img, &img->maps[mu - 1], addr, limit, pc, e);
		if (r == 1)
			return 0;
		if (r)
			return r;
	}
	if (s) {
		if (mu < img->nmaps && img->maps[mu].start > addr)
			limit = min_u64(limit, img->maps[mu].start - addr);
		*pc = (struct piece){PIECE_MISSING, NULL, limit};
		return 0;
	}
	return err_fault(e, addr, "0x%llx is not in the core's memory (no segment or mapped file covers it)",
			 (unsigned long long)addr);
}

uint64_t image_missing(const struct image *img, uint64_t addr, uint64_t len)
{
	uint64_t missing = 0;
	/* the bytes held by the core itself, the common case, in one lookup */
	if (!len || image_ptr(img, addr, len))
		return 0;
	while (len > 0) {
		struct piece pc;
		if (image_piece(img, addr, &pc, NULL) != 0)
			return missing;   /* unmapped: not "missing", a fault (image_mapped says so) */
		uint64_t n = min_u64(pc.len, len);
		if (pc.kind == PIECE_MISSING)
			missing += n;
		len -= n;
		if (len > 0 && n > UINT64_MAX - addr)
			break;
		addr += n;
	}
	return missing;
}

/* The bytes of [addr, addr + len) piece by piece.  Bytes the core lacks
 * (PIECE_MISSING) are a fault when missing is NULL; otherwise they are
 * zero-filled and counted in *missing. */
static int read_pieces(const struct image *img, uint64_t addr, uint8_t *out, size_t len, uint64_t *missing,
		       struct err *e)
{
	while (len > 0) {
		struct piece pc;
		int rc = image_piece(img, addr, &pc, e);
		if (rc)
			return rc;
		size_t n = (size_t)min_u64(pc.len, len);
		if (pc.kind == PIECE_MISSING && !missing) {
			const struct image_segment *s = image_segment_at(img, addr);
			return err_fault(e, addr, "memory not saved in core dump at 0x%llx (the core holds 0x%llx bytes "
					 "of the segment 0x%llx-0x%llx: a filtered or cut dump)", (unsigned long long)addr,
					 (unsigned long long)(s ? s->filesz : 0), (unsigned long long)(s ? s->start : 0),
					 (unsigned long long)(s ? s->end : 0));
		}
		if (pc.kind == PIECE_MISSING)
			*missing += n;
		if (pc.kind == PIECE_ZERO || pc.kind == PIECE_MISSING)
			memset(out, 0, n);
		else
			memcpy(out, pc.src, n);
		out += n;
		len -= n;
		if (len > 0 && n > UINT64_MAX - addr)
			return err_fault(e, 0, "read wraps past the end of the address space");
		addr += n;
	}
	return 0;
}

int image_read(const struct image *img, uint64_t addr, void *buf, size_t len, struct err *e)
{
	const void *p = len ? image_ptr(img, addr, len) : NULL;

	if (p) {   /* the window or the core itself: the common case */
		memcpy(buf, p, len);
		return 0;
	}
	return read_pieces(img, addr, buf, len, NULL, e);
}

int image_read_zerofill(const struct image *img, uint64_t addr, void *buf, size_t len, uint64_t *missing,
			struct err *e)
{
	const void *p = len ? image_ptr(img, addr, len) : NULL;

	*missing = 0;
	if (p) {
		memcpy(buf, p, len);
		return 0;
	}
	return read_pieces(img, addr, buf, len, missing, e);
}

/* The hot path: a branch-free binary search (the walker's addresses jump
 * between segments, so a branchy search mispredicts about once per step),
 * then one bounds check. */
const void *image_ptr(const struct image *img, uint64_t addr, size_t len)
{
	const struct image_win *wn = img->win;
	if (addr - wn->lo < wn->len && len <= wn->len - (addr - wn->lo))
		return wn->buf + (addr - wn->lo);
	const struct image_seg *s = img->segs;
	size_t n = img->nsegs;

	if (n == 0)
		return NULL;
	while (n > 1) {
		size_t half = n / 2;
		s = s[half].pub.start <= addr ? s + half : s;
		n -= half;
	}
	uint64_t off = addr - s->pub.start; /* wraps when addr < start: then >= filesz */
	if (addr < s->pub.start || off >= s->pub.filesz || len > s->pub.filesz - off)
		return NULL;
	return img->core + s->offset + off;
}

/* madvise(advice) over the whole pages of the core that hold [lo, hi). */
static void advise(const struct image *img, uint64_t lo, uint64_t hi, int advice)
{
	const uint64_t page = 4096;
	for (size_t i = 0; i < img->nsegs && lo < hi; i++) {
		const struct image_seg *s = &img->segs[i];
		uint64_t a = lo > s->pub.start ? lo : s->pub.start;
		uint64_t b = hi < s->pub.start + s->pub.filesz ? hi : s->pub.start + s->pub.filesz;
		if (a >= b)
			continue;
		uint64_t fa = s->offset + (a - s->pub.start), fb = s->offset + (b - s->pub.start);
		fa = (fa + page - 1) & ~(page - 1);
		fb &= ~(page - 1);
		if (fa < fb && fb <= img->core_size)
			madvise((void *)(img->core + fa), (size_t)(fb - fa), advice);
	}
}

void image_release(const struct image *img, uint64_t lo, uint64_t hi)
{
	if (img->core_anon)
		return;   /* anonymous pages given back would read as zeros */
	advise(img, lo, hi, MADV_DONTNEED);
}

/* The core file's descriptor for pread (opened at open); -1 if it could not be. */
static int core_fd(const struct image *img)
{
	return img->win->fd;
}

size_t image_pread(const struct image *img, uint64_t addr, void *buf, size_t len)
{
	size_t u = image_seg_upper(img, addr);
	if (u == 0 || len == 0)
		return 0;
	const struct image_seg *s = &img->segs[u - 1];
	uint64_t end = s->pub.start + s->pub.filesz;
	if (addr >= end)
		return 0;
	if (len > end - addr)
		len = (size_t)(end - addr);
	uint64_t off = s->offset + (addr - s->pub.start);
	if (img->core_anon) {
		memcpy(buf, img->core + off, len);
		return len;
	}
	int fd = core_fd(img);
	if (fd < 0)
		return 0;
	for (size_t got = 0; got < len;) {
		ssize_t r = pread(fd, (uint8_t *)buf + got, len - got, (off_t)(off + got));
		if (r <= 0) {
			if (r < 0 && errno == EINTR)
				continue;
			return 0;
		}
		got += (size_t)r;
	}
	return len;
}

uint64_t image_window_gen(const struct image *img)
{
	return img->win->gen;
}

bool image_window(const struct image *img, uint64_t lo, uint64_t hi)
{
	struct image_win *wn = img->win;
	wn->len = 0;
	wn->gen++;
	if (hi <= lo)
		return false;
	/* Clipped before allocating: the buffer is bounded by what the core
	 * holds at lo, never by a range (or a hostile memsz) beyond it. */
	size_t u = image_seg_upper(img, lo);
	if (u == 0)
		return false;
	const struct image_seg *s = &img->segs[u - 1];
	if (lo - s->pub.start >= s->pub.filesz)
		return false;
	size_t n = (size_t)min_u64(hi - lo, s->pub.filesz - (lo - s->pub.start));
	if (n > wn->cap) {
		uint8_t *nb = realloc(wn->buf, n);
		if (!nb)
			return false;
		wn->buf = nb;
		wn->cap = n;
	}
	n = image_pread(img, lo, wn->buf, n);
	if (!n)
		return false;
	wn->lo = lo;
	wn->len = n;
	return true;
}

bool image_window_swap(const struct image *img, uint64_t lo, size_t len, uint8_t **buf, size_t *cap)
{
	struct image_win *wn = img->win;
	wn->len = 0;
	wn->gen++;
	size_t u = image_seg_upper(img, lo);
	if (u == 0 || len == 0 || !*buf || len > *cap)
		return false;
	const struct image_seg *s = &img->segs[u - 1];
	if (lo - s->pub.start >= s->pub.filesz || len > s->pub.filesz - (lo - s->pub.start))
		return false;
	uint8_t *old = wn->buf;
	size_t oldcap = wn->cap;
	wn->buf = *buf;
	wn->cap = *cap;
	wn->lo = lo;
	wn->len = len;
	*buf = old;
	*cap = oldcap;
	return true;
}

int image_read_u64(const struct image *img, uint64_t addr, uint64_t *v, struct err *e)
{
	const void *p = image_ptr(img, addr, sizeof *v);
	if (p) {
		memcpy(v, p, sizeof *v);
		return 0;
	}
	return image_read(img, addr, v, sizeof *v, e);
}

int image_read_u32(const struct image *img, uint64_t addr, uint32_t *v, struct err *e)
{
	const void *p = image_ptr(img, addr, sizeof *v);
	if (p) {
		memcpy(v, p, sizeof *v);
		return 0;
	}
	return image_read(img, addr, v, sizeof *v, e);
}

bool image_mapped(const struct image *img, uint64_t addr, uint64_t len)
{
	if (len == 0)
		len = 1;
	if (len - 1 > UINT64_MAX - addr)
		return false;
	while (len > 0) {
		struct piece pc;
		if (image_piece(img, addr, &pc, NULL))
			return false;
		uint64_t n = min_u64(pc.len, len);
		len -= n;
		addr += n;
	}
	return true;
}

/* ---- accessors ---- */

size_t image_segment_count(const struct image *img)
{
	return img->nsegs;
}

const struct image_segment *image_segment(const struct image *img, size_t i)
{
	return i < img->nsegs ? &img->segs[i].pub : NULL;
}

const struct image_segment *image_segment_at(const struct image *img, uint64_t addr)
{
	size_t u = image_seg_upper(img, addr);
	if (u == 0 || addr >= img->segs[u - 1].pub.end)
		return NULL;
	return &img->segs[u - 1].pub;
}

size_t image_thread_count(const struct image *img)
{
	return img->nthreads;
}

const struct image_thread *image_thread(const struct image *img, size_t i)
{
	return i < img->nthreads ? &img->threads[i] : NULL;
}

uint64_t image_bias(const struct image *img)
{
	return img->bias;
}

bool image_auxv(const struct image *img, uint64_t type, uint64_t *val)
{
	for (size_t i = 0; i < img->nauxv; i++) {
		uint64_t t, v;
		memcpy(&t, img->auxv + 16 * i, 8);
		memcpy(&v, img->auxv + 16 * i + 8, 8);
		if (t == AT_NULL)
			break;
		if (t == type) {
			*val = v;
			return true;
		}
	}
	return false;
}

const char *image_core_build_id(const struct image *img)
{
	return img->core_build_id;
}

const char *image_exe_build_id(const struct image *img)
{
	return img->exe_build_id;
}

const char *image_build_id_check(const struct image *img)
{
	return img->build_id_check;
}

enum image_build_id_state image_build_id_state(const struct image *img)
{
	return img->build_id_state;
}

const char *image_core_compression(const struct image *img)
{
	return img->zformat;
}

bool image_looks_like_core(const uint8_t *head, size_t n)
{
	return (n >= SELFMAG && memcmp(head, ELFMAG, SELFMAG) == 0) || image_zcore_kind(head, n) != NULL;
}

int image_pid(const struct image *img)
{
	return img->pid;
}

const char *image_core_kind(const struct image *img)
{
	if (img->pid)
		return "live";
	return img->gdb_tdesc ? "gcore" : "kernel";
}

uint16_t image_machine(const struct image *img) { return img->machine; }

uint64_t image_core_size(const struct image *img)
{
	return img->core_size;
}

const char *image_core_path(const struct image *img)
{
	return img->core_path;
}

const char *image_exe_path(const struct image *img)
{
	return img->exe_path;
}
