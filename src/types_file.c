/* types_file.c: the file the DWARF comes from.
 *
 * Opens an ELF file for libdwarf (Debian's 20210528 API; compressed debug
 * sections are libdwarf's business), reads its GNU build-id note, and says
 * where the separate debug file of a build-id lives
 * (/usr/lib/debug/.build-id/xx/yyyy.debug, or under AGGOP_DEBUG_ROOT for
 * tests, which cannot write the system directory).  Which candidate to try
 * in which order (the executable, --debug-file, the build-id path) is
 * types.c's decision; this file only opens one.
 */
#include "types_priv.h"

#include <errno.h>
#include <fcntl.h>
#include <gelf.h>
#include <libelf.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* The GNU build-id note of an ELF file as lowercase hex ("" if none). */
static void read_build_id(int fd, char *out, size_t outsz)
{
	out[0] = 0;
	if (elf_version(EV_CURRENT) == EV_NONE)
		return;
	Elf *elf = elf_begin(fd, ELF_C_READ, NULL);
	if (!elf)
		return;
	Elf_Scn *scn = NULL;
	while ((scn = elf_nextscn(elf, scn)) && !out[0]) {
		GElf_Shdr sh;
		if (!gelf_getshdr(scn, &sh) || sh.sh_type != SHT_NOTE)
			continue;
		Elf_Data *d = elf_getdata(scn, NULL);
		if (!d)
			continue;
		size_t off = 0, noff, doff;
		GElf_Nhdr nh;
		while ((off = gelf_getnote(d, off, &nh, &noff, &doff)) > 0) {
			if (nh.n_type != NT_GNU_BUILD_ID || nh.n_namesz != 4 ||
			    memcmp((char *)d->d_buf + noff, "GNU", 4))
				continue;
			const unsigned char *id = (const unsigned char *)d->d_buf + doff;
			size_t n = nh.n_descsz;
			if (n * 2 + 1 > outsz)
				n = (outsz - 1) / 2;
			for (size_t i = 0; i < n; i++)
				snprintf(out + 2 * i, 3, "%02x", id[i]);
			break;
		}
	}
	elf_end(elf);
}

/* libdwarf 20210528 frees a buffer twice when a .debug_rnglists unit header
 * is malformed (dwarf_load_rnglists' error path, found by the types fuzzer):
 * its unit headers are checked here first, and a bad one refuses the file
 * with a line instead of reaching libdwarf.  DWARF 5 section 7.28: unit_length
 * (4 bytes, or 0xffffffff and 8), version 5, address_size, segment selector
 * size 0, offset_entry_count. */
static int rnglists_sane(int fd, const char *path, struct err *e)
{
	int rc = 0;
	if (elf_version(EV_CURRENT) == EV_NONE)
		return 0;
	Elf *elf = elf_begin(fd, ELF_C_READ, NULL);
	size_t shstrndx;
	if (!elf || elf_getshdrstrndx(elf, &shstrndx) != 0) {
		if (elf)
			elf_end(elf);
		return 0;   /* not ELF enough for this check: libdwarf's init says so */
	}
	for (Elf_Scn *scn = NULL; (scn = elf_nextscn(elf, scn)) && !rc;) {
		GElf_Shdr sh;
		const char *name;
		if (!gelf_getshdr(scn, &sh) || !(name = elf_strptr(elf, shstrndx, sh.sh_name)) ||
		    strcmp(name, ".debug_rnglists") != 0 || (sh.sh_flags & SHF_COMPRESSED) || sh.sh_type == SHT_NOBITS)
			continue;
		Elf_Data *d = elf_getdata(scn, NULL);
		const unsigned char *b = d ? d->d_buf : NULL;
		uint64_t n = d && d->d_buf ? d->d_size : 0, off = 0;
		while (off < n && !rc) {
			uint64_t len;
			uint32_t l32;
			unsigned hdr = 4, offsize = 4;
			if (n - off < 4) {   /* a tail too short for a unit header */
				rc = err_set(e, ERR_INPUT, "%s: .debug_rnglists ends in %llu stray bytes", path,
					     (unsigned long long)(n - off));
				break;
			}
			memcpy(&l32, b + off, 4);
			len = l32;
			if (l32 == 0xffffffffu) {
				if (n - off < 12) {
					rc = err_set(e, ERR_INPUT, "%s: .debug_rnglists ends in a truncated 64-bit unit", path);
					break;
				}
				memcpy(&len, b + off + 4, 8);
				hdr = 12;
				offsize = 8;
			}
			uint16_t version;
			uint32_t count;
			if (len > n - off - hdr || len < 8) {
				rc = err_set(e, ERR_INPUT, "%s: .debug_rnglists unit at +%llu has length %llu past its section", path,
					     (unsigned long long)off, (unsigned long long)len);
				break;
			}
			memcpy(&version, b + off + hdr, 2);
			memcpy(&count, b + off + hdr + 4, 4);
			if (version != 5 || (b[off + hdr + 2] != 4 && b[off + hdr + 2] != 8) || b[off + hdr + 3] != 0 ||
			    (uint64_t)count * offsize > len - 8)
				rc = err_set(e, ERR_INPUT, "%s: .debug_rnglists unit at +%llu is malformed (version %u, address "
					     "size %u, %u offsets); the debug info is damaged", path,
					     (unsigned long long)off, version, b[off + hdr + 2], count);
			off += hdr + len;
		}
	}
	elf_end(elf);
	return rc;
}

/* f->build_id is filled even when the file has no DWARF: the caller looks
 * for the separate debug file by it. */
int types_file_open(struct types_file *f, const char *path, struct err *e)
{
	memset(f, 0, sizeof *f);
	f->fd = open(path, O_RDONLY | O_CLOEXEC);
	if (f->fd < 0)
		return err_set(e, errno == ENOENT ? ERR_NOTFOUND : ERR_IO, "cannot open %s: %s",
			       path, strerror(errno));
	read_build_id(f->fd, f->build_id, sizeof f->build_id);
	if (rnglists_sane(f->fd, path, e)) {
		close(f->fd);
		f->fd = -1;
		return ERR_INPUT;
	}
	Dwarf_Error derr = NULL;
	/* libdwarf's allocation tree stays on (its default): on malformed DWARF
	 * libdwarf 20210528 leaves allocations of its own behind (dwarf_child's
	 * error paths, found by the types fuzzer) and frees them only through the
	 * tree in dwarf_finish.  Turning it off saved a tenth of the time on a
	 * huge binary and leaked on hostile input. */
	int res = dwarf_init_b(f->fd, DW_DLC_READ, DW_GROUPNUMBER_ANY, NULL, NULL, &f->dbg, &derr);
	if (res == DW_DLV_OK)
		return 0;
	if (res == DW_DLV_ERROR) {
		err_set(e, ERR_NOTFOUND, "%s: DWARF unreadable: %s", path, dwarf_errmsg(derr));
		dwarf_dealloc_error(NULL, derr);
	} else {
		err_set(e, ERR_NOTFOUND, "%s has no DWARF debug info", path);
	}
	f->dbg = NULL;
	close(f->fd);
	f->fd = -1;
	return ERR_NOTFOUND;
}

void types_file_close(struct types_file *f)
{
	Dwarf_Error derr = NULL;
	if (f->dbg) {
		dwarf_finish(f->dbg, &derr);
	}
	if (f->fd >= 0)
		close(f->fd);
	f->dbg = NULL;
	f->fd = -1;
}

bool types_file_debug_path(const char *id, char *out, size_t n)
{
	if (strlen(id) <= 2)
		return false;
	const char *root = getenv("AGGOP_DEBUG_ROOT");
	if (!root || !*root)
		root = "/usr/lib/debug";
	snprintf(out, n, "%s/.build-id/%.2s/%s.debug", root, id, id + 2);
	return true;
}
