/* image_exe.c: ties the executable given to the core: which NT_FILE entry is
 * the executable, the build-id the core holds for it (from the ELF header
 * page the dumpers keep: the kernel writes the first page of every mapped
 * ELF file, gcore writes r-- file mappings whole), the executable's own
 * build-id, the PIE load bias (AT_ENTRY - e_entry, checked against AT_PHDR)
 * and the refusal of an executable that is not the one the process ran.
 *
 * The core's copy of the build-id is read only from bytes the core holds
 * (image_ptr), never through the NT_FILE fallback: that would read the very
 * file being checked.
 */
#include "image_priv.h"

#include <elf.h>
#include <gelf.h>
#include <stdio.h>
#include <libelf.h>
#include <string.h>
#include <sys/mman.h>

/* How far into a note segment a build-id is looked for (it is the first
 * note in practice; 64 KiB bounds a hostile p_filesz). */
#define IMAGE_NOTE_SCAN_MAX 65536u

static const char *base_name(const char *p)
{
	const char *s = strrchr(p, '/');
	return s ? s + 1 : p;
}

/* basename(recorded) == basename(given), ignoring the kernel's " (deleted)"
 * suffix on files removed since they were mapped. */
static bool same_base_name(const char *recorded, const char *given)
{
	static const char deleted[] = " (deleted)";
	const char *r = base_name(recorded), *g = base_name(given);
	size_t rl = strlen(r), gl = strlen(g), dl = sizeof deleted - 1;

	if (rl > dl && strcmp(r + rl - dl, deleted) == 0)
		rl -= dl;
	return rl == gl && memcmp(r, g, rl) == 0;
}

/* The files[] index of the mapping that holds addr, or nfiles. */
static size_t file_at(const struct image *img, uint64_t addr)
{
	size_t u = image_map_upper(img, addr);
	if (u == 0 || addr >= img->maps[u - 1].end)
		return img->nfiles;
	return img->maps[u - 1].file;
}

/* The recorded executable: the file the program headers (AT_PHDR) or the
 * entry point (AT_ENTRY) lie in; without an auxv, the file whose name is the
 * given executable's. */
static size_t find_recorded_exe(const struct image *img, const char *exe_path)
{
	uint64_t v;
	size_t f = img->nfiles;

	if (image_auxv(img, AT_PHDR, &v))
		f = file_at(img, v);
	if (f == img->nfiles && image_auxv(img, AT_ENTRY, &v))
		f = file_at(img, v);
	for (size_t i = 0; f == img->nfiles && exe_path && i < img->nfiles; i++)
		if (same_base_name(img->files[i].path, exe_path))
			f = i;
	return f;
}

bool image_file_base(const struct image *img, size_t f, uint64_t *base)
{
	for (size_t i = 0; i < img->nmaps; i++)
		if (img->maps[i].file == f && img->maps[i].offset == 0) {
			*base = img->maps[i].start; /* maps are sorted: the first is the lowest */
			return true;
		}
	return false;
}

/* The GNU build-id among the notes in [p, p+len), as hex into out. */
static bool notes_build_id(const uint8_t *p, uint64_t len, uint64_t align, char *out)
{
	uint64_t off = 0;
	struct image_note n;

	if (len > IMAGE_NOTE_SCAN_MAX)
		len = IMAGE_NOTE_SCAN_MAX;
	while (image_note_next(p, len, align, &off, &n) > 0)
		if (image_note_is(&n, "GNU", IMAGE_NT_GNU_BUILD_ID) && n.descsz > 0) {
			image_build_id_hex(n.desc, n.descsz, out);
			return true;
		}
	return false;
}

static uint64_t note_align(uint64_t p_align)
{
	return p_align == 8 ? 8 : 4;
}

int image_core_page_build_id(const struct image *img, uint64_t base, char *out)
{
	out[0] = '\0';
	const Elf64_Ehdr *eh = image_ptr(img, base, sizeof *eh);
	Elf64_Ehdr h;
	if (eh)
		memcpy(&h, eh, sizeof h);
	const void *ph = eh && memcmp(h.e_ident, ELFMAG, SELFMAG) == 0 && h.e_phoff < IMAGE_PAGE &&
				 h.e_phentsize == sizeof(Elf64_Phdr)
			       ? image_ptr(img, base + h.e_phoff, (size_t)h.e_phnum * sizeof(Elf64_Phdr))
			       : NULL;
	if (!ph)
		return -1;
	/* Where the file's link-time address 0 landed, by the core's own headers. */
	uint64_t load = base;
	for (unsigned i = 0; i < h.e_phnum; i++) {
		Elf64_Phdr p;
		memcpy(&p, (const uint8_t *)ph + i * sizeof p, sizeof p);
		if (p.p_type == PT_LOAD && p.p_offset == 0) {
			load = base - p.p_vaddr;
			break;
		}
	}
	for (unsigned i = 0; i < h.e_phnum; i++) {
		Elf64_Phdr p;
		memcpy(&p, (const uint8_t *)ph + i * sizeof p, sizeof p);
		if (p.p_type != PT_NOTE)
			continue;
		uint64_t len = p.p_filesz < IMAGE_NOTE_SCAN_MAX ? p.p_filesz : IMAGE_NOTE_SCAN_MAX;
		const uint8_t *n = image_ptr(img, load + p.p_vaddr, (size_t)len);
		if (n && notes_build_id(n, len, note_align(p.p_align), out))
			return 1;
	}
	return 0;
}

int image_file_build_id(const uint8_t *map, uint64_t size, char *out)
{
	Elf64_Ehdr h;

	out[0] = '\0';
	if (size < sizeof h || memcmp(map, ELFMAG, SELFMAG) != 0 || map[EI_CLASS] != ELFCLASS64)
		return -1;
	memcpy(&h, map, sizeof h);
	if (h.e_phentsize != sizeof(Elf64_Phdr) || h.e_phoff > size ||
	    (uint64_t)h.e_phnum * sizeof(Elf64_Phdr) > size - h.e_phoff)
		return -1;
	for (unsigned i = 0; i < h.e_phnum; i++) {
		Elf64_Phdr p;
		memcpy(&p, map + h.e_phoff + i * sizeof p, sizeof p);
		if (p.p_type == PT_NOTE && p.p_offset <= size && p.p_filesz <= size - p.p_offset &&
		    notes_build_id(map + p.p_offset, p.p_filesz, note_align(p.p_align), out))
			return 1;
	}
	return 0;
}

/* The core's build-id for the executable; when the core lacks the bytes,
 * core_build_id stays "" and build_id_check says why. */
static void core_build_id(struct image *img)
{
	uint64_t base;

	if (img->exe_file == img->nfiles || !image_file_base(img, img->exe_file, &base)) {
		snprintf(img->build_id_check, sizeof img->build_id_check,
			 "not checked: the core does not say where the executable is mapped (no NT_FILE entry for it)");
		return;
	}
	int r = image_core_page_build_id(img, base, img->core_build_id);
	if (r < 0)
		snprintf(img->build_id_check, sizeof img->build_id_check,
			 "not checked: the core does not hold the executable's ELF header page at 0x%llx",
			 (unsigned long long)base);
	else if (r == 0)
		snprintf(img->build_id_check, sizeof img->build_id_check,
			 "not checked: the core's copy of the executable's first page has no build-id note");
}

/* The executable's header facts and build-id, through libelf. */
static int exe_parse(struct image *img, const char *path, Elf *elf, struct err *e)
{
	GElf_Ehdr eh;
	size_t phnum;

	if (!gelf_getehdr(elf, &eh) || elf_getphdrnum(elf, &phnum) != 0)
		return err_set(e, ERR_INPUT, "%s: cannot read its ELF headers (%s); pass the executable the process ran",
			       path, elf_errmsg(-1));
	if (eh.e_type != ET_EXEC && eh.e_type != ET_DYN)
		return err_set(e, ERR_INPUT, "%s is %s, not an executable; pass the executable the process ran",
			       path, image_elf_kind(eh.e_type));
	if (eh.e_machine != EM_X86_64)
		return err_set(e, ERR_INPUT, "%s is for machine %u, not x86-64", path, eh.e_machine);
	img->exe.type = eh.e_type;
	img->exe.entry = eh.e_entry;
	img->exe.phoff = eh.e_phoff;
	for (size_t i = 0; i < phnum; i++) {
		GElf_Phdr p;
		if (!gelf_getphdr(elf, (int)i, &p))
			return err_set(e, ERR_INPUT, "%s: cannot read program header %zu (%s)", path, i,
				       elf_errmsg(-1));
		if (p.p_type == PT_PHDR) {
			img->exe.phdr_vaddr = p.p_vaddr;
			img->exe.have_phdr_vaddr = true;
		} else if (p.p_type == PT_LOAD && !img->exe.have_phdr_vaddr && eh.e_phoff >= p.p_offset &&
			   eh.e_phoff - p.p_offset < p.p_filesz) {
			img->exe.phdr_vaddr = p.p_vaddr + (eh.e_phoff - p.p_offset);
			img->exe.have_phdr_vaddr = true;
		}
	}
	/* Same reader as for the core's copy; libelf has checked the headers. */
	image_file_build_id(img->exe.map, img->exe.size, img->exe_build_id);
	return 0;
}

static int exe_open(struct image *img, const char *path, struct err *e)
{
	int rc = image_map_file(path, &img->exe.map, &img->exe.size);
	if (rc)
		return err_set(e, ERR_INPUT, "cannot read executable %s: %s", path, image_map_error(rc));
	img->have_exe = true;
	/* Checked by hand first: libelf then reads the native-order file in
	 * place, which a read-only mapping requires. */
	if (img->exe.size < sizeof(Elf64_Ehdr) || memcmp(img->exe.map, ELFMAG, SELFMAG) != 0 ||
	    img->exe.map[EI_CLASS] != ELFCLASS64 || img->exe.map[EI_DATA] != ELFDATA2LSB)
		return err_set(e, ERR_INPUT, "%s is not a 64-bit ELF executable; pass the executable the process ran",
			       path);
	elf_version(EV_CURRENT);
	Elf *elf = elf_memory((char *)img->exe.map, img->exe.size);
	if (!elf)
		return err_set(e, ERR_INPUT, "%s: libelf cannot read it (%s)", path, elf_errmsg(-1));
	rc = exe_parse(img, path, elf, e);
	elf_end(elf);
	return rc;
}

/* AT_ENTRY - e_entry for a PIE; without an auxv, where NT_FILE says the
 * file's offset 0 is mapped. */
static void exe_bias(struct image *img)
{
	uint64_t entry, base;

	if (img->exe.type != ET_DYN)
		img->bias = 0;
	else if (image_auxv(img, AT_ENTRY, &entry))
		img->bias = entry - img->exe.entry;
	else if (img->exe_file < img->nfiles && image_file_base(img, img->exe_file, &base) &&
		 img->exe.have_phdr_vaddr)
		img->bias = base - (img->exe.phdr_vaddr - img->exe.phoff);
}

/* Reads of the recorded executable's mappings come from the file given:
 * cores travel, and the binary beside them is the one that matters. */
static void exe_attach(struct image *img, const char *exe_path)
{
	for (size_t i = 0; i < img->nfiles; i++) {
		struct image_file *f = &img->files[i];
		if (i != img->exe_file && !same_base_name(f->path, exe_path))
			continue;
		f->state = IMAGE_FILE_OPEN;
		f->is_exe = true;
		f->map = img->exe.map;
		f->size = img->exe.size;
	}
}

int image_exe_load(struct image *img, const char *exe_path, struct err *e)
{
	int rc;
	uint64_t phdr;

	img->exe_file = find_recorded_exe(img, exe_path);
	core_build_id(img);
	if (!exe_path) {
		snprintf(img->build_id_check, sizeof img->build_id_check, "not checked: no executable given");
		return 0;
	}
	rc = exe_open(img, exe_path, e);
	if (rc)
		return rc;
	if (img->core_build_id[0] && img->exe_build_id[0] &&
	    strcmp(img->core_build_id, img->exe_build_id) != 0)
		return err_set(e, ERR_INPUT,
			       "executable does not match the core: core has build-id %s, %s has %s; pass the exact binary the process ran",
			       img->core_build_id, exe_path, img->exe_build_id);
	exe_bias(img);
	if (image_auxv(img, AT_PHDR, &phdr) && img->exe.have_phdr_vaddr &&
	    phdr != img->bias + img->exe.phdr_vaddr)
		return err_set(e, ERR_INPUT,
			       "executable does not match the core: the core's program headers are at 0x%llx, %s puts them at 0x%llx; pass the exact binary the process ran",
			       (unsigned long long)phdr, exe_path,
			       (unsigned long long)(img->bias + img->exe.phdr_vaddr));
	if (img->core_build_id[0] && img->exe_build_id[0]) {
		snprintf(img->build_id_check, sizeof img->build_id_check, "build-id %s matches",
			 img->exe_build_id);
		img->build_id_state = IMAGE_BUILD_ID_MATCHES;
	} else if (!img->exe_build_id[0])
		snprintf(img->build_id_check, sizeof img->build_id_check,
			 "not checked: %s has no build-id", exe_path);
	exe_attach(img, exe_path);
	return 0;
}

/* A candidate for the executable the core names: 1 when path is a file
 * whose build-id is the core's copy's. */
static bool exe_candidate_ok(const struct image *img, const char *path)
{
	const uint8_t *map;
	uint64_t size;
	char id[2 * IMAGE_BUILD_ID_MAX + 1];
	if (!path[0] || image_map_file(path, &map, &size) != 0)
		return false;
	bool ok = image_file_build_id(map, size, id) == 1 && strcmp(id, img->core_build_id) == 0;
	if (map)
		munmap((void *)map, size);
	return ok;
}

int image_exe_find(struct image *img, char *out, size_t outsz, struct err *e)
{
	static const char deleted[] = " (deleted)";
	char named[2][4096] = {"", ""};
	uint64_t execfn;

	img->exe_file = find_recorded_exe(img, NULL);
	core_build_id(img);
	if (img->exe_file < img->nfiles) {
		const char *p = img->files[img->exe_file].path;
		size_t n = strlen(p), dl = sizeof deleted - 1;
		if (n > dl && strcmp(p + n - dl, deleted) == 0)
			n -= dl;
		if (n < sizeof named[0])
			memcpy(named[0], p, n);
	}
	/* AT_EXECFN: the path execve was given, a string on the initial stack. */
	if (image_auxv(img, AT_EXECFN, &execfn)) {
		for (size_t i = 0; i + 1 < sizeof named[1]; i++) {
			uint8_t c;
			if (image_read(img, execfn + i, &c, 1, NULL) != 0) {
				named[1][0] = 0;
				break;
			}
			named[1][i] = (char)c;
			if (!c)
				break;
		}
	}
	if (!named[0][0] && !named[1][0])
		return err_set(e, ERR_INPUT,
			       "%s does not name its executable (no NT_FILE entry or AT_EXECFN for it); pass the executable after the core",
			       img->core_path);
	if (!img->core_build_id[0])
		return err_set(e, ERR_INPUT,
			       "%s names its executable %s but holds no build-id to check it against; pass the executable after the core",
			       img->core_path, named[0][0] ? named[0] : named[1]);
	for (int k = 0; k < 2; k++)
		if (exe_candidate_ok(img, named[k])) {
			if (strlen(named[k]) >= outsz)
				break;
			memcpy(out, named[k], strlen(named[k]) + 1);
			return 0;
		}
	return err_set(e, ERR_INPUT,
		       "%s ran %s (build-id %s), which is not on this machine with that build-id; pass the executable after the core",
		       img->core_path, named[0][0] ? named[0] : named[1], img->core_build_id);
}

void image_exe_unload(struct image *img)
{
	if (img->exe.map)
		munmap((void *)img->exe.map, img->exe.size);
	img->exe.map = NULL;
}
