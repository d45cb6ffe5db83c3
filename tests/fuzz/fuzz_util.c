/* fuzz_util.c: helpers shared by the fuzz harnesses (see fuzz.h): memfd
 * files, fixture paths, and the DWARF splicer of the types and layout
 * harnesses. */
#include "fuzz.h"

#include <elf.h>
#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>
#include <zlib.h>

int fuzz_file_init(struct fuzz_file *f, const char *name)
{
	f->fd = memfd_create(name, MFD_CLOEXEC);
	if (f->fd < 0)
		return -1;
	snprintf(f->path, sizeof f->path, "/proc/self/fd/%d", f->fd);
	return 0;
}

int fuzz_file_set(struct fuzz_file *f, const void *data, size_t size)
{
	/* over the old content, then cut to size: truncating to 0 first freed
	 * the memfd's pages for the write to allocate them again, every run */
	for (size_t done = 0; done < size;) {
		ssize_t w = pwrite(f->fd, (const uint8_t *)data + done, size - done, (off_t)done);
		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			return -1;
		done += (size_t)w;
	}
	return ftruncate(f->fd, (off_t)size) == 0 ? 0 : -1;
}

static int ends_with(const char *s, const char *suffix)
{
	size_t a = strlen(s), b = strlen(suffix);
	return a >= b && strcmp(s + a - b, suffix) == 0;
}

uint8_t *fuzz_slurp(const char *path, size_t *size)
{
	/* gzopen would also unpack an input that happens to start like gzip:
	 * only names ending in .gz are unpacked */
	gzFile g = ends_with(path, ".gz") ? gzopen(path, "rb") : NULL;
	FILE *f = g ? NULL : fopen(path, "rb");
	uint8_t *buf = NULL;
	size_t n = 0, cap = 0;

	*size = 0;
	if (!g && !f)
		return NULL;
	for (;;) {
		if (cap - n < 65536) {
			uint8_t *nb = realloc(buf, cap ? 2 * cap : 65536);
			if (!nb)
				goto fail;
			buf = nb;
			cap = cap ? 2 * cap : 65536;
		}
		size_t r;
		if (g) {
			int gr = gzread(g, buf + n, (unsigned)(cap - n));
			if (gr < 0)
				goto fail;
			r = (size_t)gr;
		} else {
			r = fread(buf + n, 1, cap - n, f);
			if (ferror(f))
				goto fail;
		}
		if (r == 0)
			break;
		n += r;
	}
	if (g)
		gzclose(g);
	else
		fclose(f);
	*size = n;
	return buf;
fail:
	if (g)
		gzclose(g);
	else
		fclose(f);
	free(buf);
	return NULL;
}

int fuzz_write(const char *path, const void *data, size_t size)
{
	FILE *f = fopen(path, "wb");
	if (!f)
		return -1;
	size_t w = fwrite(data, 1, size, f);
	return (fclose(f) == 0 && w == size) ? 0 : -1;
}

static const char *env_path(char *buf, size_t n, const char *var, const char *def, const char *rel)
{
	const char *root = getenv(var);
	snprintf(buf, n, "%s/%s", root && *root ? root : def, rel);
	return buf;
}

const char *fuzz_fixture(const char *rel)
{
	static char buf[4096];
	return env_path(buf, sizeof buf, "FIXDIR", "build/fixtures", rel);
}

const char *fuzz_data(const char *rel)
{
	static char buf[4096];
	return env_path(buf, sizeof buf, "AGGOP_FUZZ_DATA", "tests/fuzz/data", rel);
}

FILE *fuzz_devnull(void)
{
	static FILE *f;
	if (!f)
		f = fopen("/dev/null", "w");
	return f;
}

uint32_t fuzz_rd32(const uint8_t *p)
{
	uint32_t v;
	memcpy(&v, p, sizeof v);
	return v;
}

uint64_t fuzz_rd64(const uint8_t *p)
{
	uint64_t v;
	memcpy(&v, p, sizeof v);
	return v;
}

/* ---- the DWARF splicer ---- */

const char *const fuzz_dwarf_sections[] = {
	".debug_info", ".debug_abbrev", ".debug_str", ".debug_line",
	".debug_str_offsets", ".debug_addr", ".debug_line_str", ".debug_rnglists",
	".debug_ranges", ".debug_aranges", ".debug_loclists", ".debug_loc",
};
#define NSECT (sizeof fuzz_dwarf_sections / sizeof fuzz_dwarf_sections[0])

static struct {
	uint8_t *elf;            /* the template */
	size_t size;
	Elf64_Ehdr eh;
	Elf64_Shdr *sh;          /* its section headers */
	int index[NSECT];        /* section index of each name, or -1 */
	uint8_t *out;            /* the ELF being built */
	size_t out_size, out_cap;
	struct fuzz_file file;
} dw;

static const char *sec_name(const Elf64_Shdr *strtab, uint32_t name)
{
	if (name >= strtab->sh_size)
		return "";
	return (const char *)dw.elf + strtab->sh_offset + name;
}

int fuzz_dwarf_init(void)
{
	const char *path = fuzz_data("dwarfprog.gz");
	dw.elf = fuzz_slurp(path, &dw.size);
	if (!dw.elf || dw.size < sizeof dw.eh) {
		fprintf(stderr, "fuzz: cannot read the DWARF template %s\n", path);
		return -1;
	}
	memcpy(&dw.eh, dw.elf, sizeof dw.eh);
	/* the template is ours: trusted, but checked enough not to overrun */
	if (dw.eh.e_shentsize != sizeof(Elf64_Shdr) || dw.eh.e_shoff > dw.size ||
	    (size_t)dw.eh.e_shnum * sizeof(Elf64_Shdr) > dw.size - dw.eh.e_shoff ||
	    dw.eh.e_shstrndx >= dw.eh.e_shnum) {
		fprintf(stderr, "fuzz: %s is not the expected ELF\n", path);
		return -1;
	}
	dw.sh = malloc((size_t)dw.eh.e_shnum * sizeof *dw.sh);
	if (!dw.sh)
		return -1;
	memcpy(dw.sh, dw.elf + dw.eh.e_shoff, (size_t)dw.eh.e_shnum * sizeof *dw.sh);
	for (size_t k = 0; k < NSECT; k++) {
		dw.index[k] = -1;
		for (int i = 0; i < dw.eh.e_shnum; i++)
			if (strcmp(sec_name(&dw.sh[dw.eh.e_shstrndx], dw.sh[i].sh_name), fuzz_dwarf_sections[k]) == 0)
				dw.index[k] = i;
	}
	/* types_open looks for separate debug info by build-id: nowhere real */
	setenv("AGGOP_DEBUG_ROOT", "/nonexistent/aggop-fuzz", 1);
	return fuzz_file_init(&dw.file, "fuzz-dwarf");
}

static int out_put(const void *p, size_t n, size_t align)
{
	size_t at = (dw.out_size + align - 1) / align * align;
	if (at + n > dw.out_cap) {
		size_t cap = dw.out_cap ? dw.out_cap : 65536;
		while (cap < at + n)
			cap *= 2;
		uint8_t *nb = realloc(dw.out, cap);
		if (!nb)
			return -1;
		dw.out = nb;
		dw.out_cap = cap;
	}
	memset(dw.out + dw.out_size, 0, at - dw.out_size);
	if (n)
		memcpy(dw.out + at, p, n);
	dw.out_size = at + n;
	return (int)(at > INT32_MAX ? -1 : 0);
}

/* Would libdwarf 20210528 read every .debug_rnglists header without an
 * error?  (types_file.c's rnglists_sane refuses such files since 06c5a64,
 * except a tail too short for a unit length, regressions/types/rnglists-
 * short-*; once it refuses all of them, drop this filter so the fuzzers
 * test that check.)  Its internal_load_rnglists_contexts (dwarf_rnglists.c) lacks a
 * return after a header fails: it frees the context and the chain and goes
 * on using them (a double free), on the first CU read of any file with such
 * a section.  These are its checks, in its order (little-endian). */
bool fuzz_rnglists_ok(const uint8_t *p, size_t size)
{
	for (size_t off = 0; off < size;) {
		size_t o = off, offset_size = 4, ext = 0;
		if (size - o < 4)
			return false;
		uint64_t len = fuzz_rd32(p + o);
		o += 4;
		if (len == 0xffffffffu) {
			if (size - o < 8)
				return false;
			len = fuzz_rd64(p + o);
			o += 8;
			offset_size = 8;
			ext = 4;
		}
		if (len > size)
			return false;
		/* version (2, must be 5), address size (1: 2, 4 or 8), segment
		 * selector size (1), offset entry count (4) */
		if (size - o < 2 || (p[o] | p[o + 1] << 8) != 5)
			return false;
		o += 2;
		if (size - o < 1 || (p[o] != 2 && p[o] != 4 && p[o] != 8))
			return false;
		o += 1;
		if (size - o < 1 + 4)
			return false;
		off += len + offset_size + ext;
	}
	return true;
}

bool fuzz_dwarf_filter_known;

const char *fuzz_dwarf_elf(const uint8_t *data, size_t size)
{
	const uint8_t *body[NSECT] = {0};
	size_t len[NSECT] = {0};
	bool given[NSECT] = {0};

	for (size_t o = 0; size - o >= 5 && o < size;) {
		size_t k = data[o] % NSECT;
		size_t n = fuzz_rd32(data + o + 1);
		o += 5;
		if (n > size - o)
			n = size - o;
		body[k] = data + o;
		len[k] = n;
		given[k] = true;
		o += n;
	}
	for (size_t k = 0; k < NSECT && fuzz_dwarf_filter_known; k++)
		if (given[k] && strcmp(fuzz_dwarf_sections[k], ".debug_rnglists") == 0 &&
		    !fuzz_rnglists_ok(body[k], len[k]))
			return NULL;
	/* the template, then the new sections, a new name table and the new
	 * section headers (the template's, some pointing at the new bytes) */
	dw.out_size = 0;
	if (out_put(dw.elf, dw.size, 1))
		return NULL;
	size_t nsh = dw.eh.e_shnum, extra = 0;
	Elf64_Shdr sh[64 + NSECT];
	if (nsh > 64)
		return NULL;
	memcpy(sh, dw.sh, nsh * sizeof *sh);
	const Elf64_Shdr *strtab = &dw.sh[dw.eh.e_shstrndx];
	size_t names_len = strtab->sh_size;
	char names[65536];
	if (names_len > sizeof names - 512)
		return NULL;
	memcpy(names, dw.elf + strtab->sh_offset, names_len);
	for (size_t k = 0; k < NSECT; k++) {
		if (!given[k])
			continue;
		size_t at = dw.out_size;
		if (out_put(body[k], len[k], 1))
			return NULL;
		Elf64_Shdr *s;
		if (dw.index[k] >= 0) {
			s = &sh[dw.index[k]];
		} else {
			s = &sh[nsh + extra++];
			*s = (Elf64_Shdr){.sh_type = SHT_PROGBITS, .sh_addralign = 1,
					  .sh_name = (Elf64_Word)names_len};
			size_t l = strlen(fuzz_dwarf_sections[k]) + 1;
			memcpy(names + names_len, fuzz_dwarf_sections[k], l);
			names_len += l;
		}
		s->sh_offset = at;
		s->sh_size = len[k];
		s->sh_flags &= ~(uint64_t)SHF_COMPRESSED;
	}
	size_t names_at = dw.out_size;
	if (out_put(names, names_len, 1))
		return NULL;
	sh[dw.eh.e_shstrndx].sh_offset = names_at;
	sh[dw.eh.e_shstrndx].sh_size = names_len;
	if (out_put(sh, (nsh + extra) * sizeof *sh, 8))
		return NULL;
	Elf64_Ehdr eh = dw.eh;
	eh.e_shoff = dw.out_size - (nsh + extra) * sizeof *sh;
	eh.e_shnum = (Elf64_Half)(nsh + extra);
	memcpy(dw.out, &eh, sizeof eh);
	if (fuzz_file_set(&dw.file, dw.out, dw.out_size))
		return NULL;
	return dw.file.path;
}

int fuzz_dwarf_write(const uint8_t *data, size_t size, const char *dir, char *path, size_t n)
{
	snprintf(path, n, "%s/exe", dir);
	if (!fuzz_dwarf_elf(data, size))
		return -1;
	return fuzz_write(path, dw.out, dw.out_size);
}

int fuzz_core_load(const uint8_t *core, uint64_t addr, uint64_t *vaddr, uint64_t *offset, uint64_t *filesz)
{
	Elf64_Ehdr eh;
	memcpy(&eh, core, sizeof eh);
	for (unsigned i = 0; i < eh.e_phnum; i++) {
		Elf64_Phdr ph;
		memcpy(&ph, core + eh.e_phoff + (size_t)i * sizeof ph, sizeof ph);
		if (ph.p_type == PT_LOAD && ph.p_vaddr <= addr && addr - ph.p_vaddr < ph.p_memsz) {
			*vaddr = ph.p_vaddr;
			*offset = ph.p_offset;
			*filesz = ph.p_filesz;
			return 0;
		}
	}
	return -1;
}

/* ---- the DWARF records' mutator ---- */

static uint64_t xrnd(uint64_t *x)
{
	*x ^= *x << 13;
	*x ^= *x >> 7;
	*x ^= *x << 17;
	return *x;
}

/* DW_FORM_* and DW_AT_* values the index reads (DWARF 4 and 5), for the
 * abbreviations; DW_TAG_* for their tags. */
static const uint8_t DW_FORMS[] = {0x01, 0x05, 0x06, 0x07, 0x08, 0x0b, 0x0c, 0x0d, 0x0e, 0x0f, 0x10, 0x11,
				   0x12, 0x13, 0x17, 0x18, 0x19, 0x1a, 0x1b, 0x1c, 0x1d, 0x1e, 0x1f, 0x20,
				   0x21, 0x22, 0x23, 0x25, 0x26, 0x27, 0x28, 0x29, 0x2a, 0x2b, 0x2c};
static const uint8_t DW_ATS[] = {0x01, 0x02, 0x03, 0x0b, 0x0f, 0x11, 0x12, 0x1c, 0x1d, 0x25, 0x2f, 0x32,
				 0x34, 0x37, 0x38, 0x39, 0x3c, 0x3e, 0x47, 0x49, 0x4c, 0x55, 0x6e, 0x72,
				 0x73, 0x74, 0x88, 0x89, 0x8a, 0x8b, 0x8c};
static const uint8_t DW_TAGS[] = {0x01, 0x04, 0x0d, 0x0f, 0x11, 0x13, 0x16, 0x17, 0x21, 0x24, 0x26, 0x28,
				  0x2e, 0x2f, 0x33, 0x34, 0x35, 0x39, 0x3b, 0x42, 0x43, 0x44};

struct rec {
	size_t at, len;  /* the body */
	uint8_t sec;
};

/* The records of an input (fuzz_dwarf_elf's reading of it). */
static size_t records(const uint8_t *d, size_t size, struct rec *r, size_t max)
{
	size_t n = 0;
	for (size_t o = 0; size - o >= 5 && o < size && n < max;) {
		size_t len = fuzz_rd32(d + o + 1);
		if (len > size - o - 5)
			len = size - o - 5;
		r[n++] = (struct rec){o + 5, len, d[o]};
		o += 5 + len;
	}
	return n;
}

size_t fuzz_dwarf_mutate(uint8_t *data, size_t size, size_t max, unsigned seed, fuzz_bytes_fn bytes)
{
	uint64_t x = seed * 0x9e3779b97f4a7c15ull + 1;
	struct rec r[32];
	size_t n = records(data, size, r, 32);
	uint64_t k = xrnd(&x) % 20;
	if (n == 0 || k >= 18 || max > (64u << 20))
		return bytes(data, size, max);
	struct rec *c = &r[xrnd(&x) % n];
	size_t sec = c->sec % NSECT;
	if (k < 9) {
		/* bytes inside one section, its length kept true */
		size_t room = max - (size - c->len);
		uint8_t *tmp = malloc(room ? room : 1);
		if (!tmp)
			return size;
		memcpy(tmp, data + c->at, c->len);
		size_t nl = bytes(tmp, c->len, room);
		size_t tail = size - c->at - c->len;
		memmove(data + c->at + nl, data + c->at + c->len, tail);
		memcpy(data + c->at, tmp, nl);
		uint32_t l32 = (uint32_t)nl;
		memcpy(data + c->at - 4, &l32, 4);
		free(tmp);
		return size - c->len + nl;
	}
	if (k < 13 && c->len >= 8) {
		/* the encodings DWARF readers trust: an abbreviation's tag, attribute
		 * or form, a DIE's reference or length, a section offset */
		size_t p = c->at + xrnd(&x) % (c->len - 4);
		const char *name = fuzz_dwarf_sections[sec];
		if (strcmp(name, ".debug_abbrev") == 0) {
			switch (xrnd(&x) % 3) {
			case 0: data[p] = DW_FORMS[xrnd(&x) % sizeof DW_FORMS]; break;
			case 1: data[p] = DW_ATS[xrnd(&x) % sizeof DW_ATS]; break;
			default: data[p] = DW_TAGS[xrnd(&x) % sizeof DW_TAGS]; break;
			}
		} else {
			uint32_t v;
			memcpy(&v, data + p, 4);
			switch (xrnd(&x) % 8) {
			case 0: v = (uint32_t)(xrnd(&x) % (c->len + 16)); break;  /* an offset in or past it */
			case 1: v = (uint32_t)c->len; break;
			case 2: v = 0xffffffffu; break;
			case 3: v = 0; break;
			case 4: v += 1 + (uint32_t)(xrnd(&x) % 8); break;
			case 5: v -= 1 + (uint32_t)(xrnd(&x) % 8); break;
			case 6: data[p] |= 0x80; return size;             /* a LEB128 that goes on */
			default: v = 0xfffffff0u | (uint32_t)(xrnd(&x) % 16); break;
			}
			memcpy(data + p, &v, 4);
		}
		return size;
	}
	if (k < 15) {
		data[c->at - 5] = (uint8_t)(xrnd(&x) % NSECT); /* another section's bytes */
		return size;
	}
	if (k < 16) {
		/* a record's length: short, long, or past the end */
		uint32_t l32 = (uint32_t)(xrnd(&x) % 2 ? c->len / 2 : c->len + 1 + xrnd(&x) % 64);
		memcpy(data + c->at - 4, &l32, 4);
		return size;
	}
	if (k < 17 || size + c->len + 5 > max) {
		/* drop a record */
		memmove(data + c->at - 5, data + c->at + c->len, size - c->at - c->len);
		return size - c->len - 5;
	}
	/* repeat a record at the end */
	memmove(data + size, data + c->at - 5, c->len + 5);
	return size + c->len + 5;
}
