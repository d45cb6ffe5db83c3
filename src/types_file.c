/* types_file.c: the file the DWARF comes from.
 *
 * Opens an ELF file for libdwarf (Debian's 20210528 API), reads its GNU
 * build-id note, and says
 * where the separate debug file of a build-id lives
 * (/usr/lib/debug/.build-id/xx/yyyy.debug, or under AGGOP_DEBUG_ROOT for
 * tests, which cannot write the system directory).  Which candidate to try
 * in which order (the executable, --debug-file, the build-id path) is
 * types.c's decision (types_debuginfo.c names the candidates); this file
 * only opens one.
 *
 * Compressed debug sections: libdwarf 20210528 inflates zlib ones
 * (ELFCOMPRESS_ZLIB) itself but refuses ELFCOMPRESS_ZSTD, the default of
 * newer toolchains (objcopy --compress-debug-sections=zstd, ld
 * --compress-debug-sections=zstd).  A file with zstd sections is copied into
 * a memfd (memory, not disk) with those sections decompressed and appended,
 * and a rewritten section header table after them; libdwarf reads the memfd.
 */
#include "types_priv.h"

#include <errno.h>
#include <fcntl.h>
#include <gelf.h>
#include <libelf.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zstd.h>

/* ELFCOMPRESS_ZSTD (gABI 2022; not in every elf.h). */
#define TYPES_ELFCOMPRESS_ZSTD 2u
/* A decompressed debug section larger than this is refused (hostile ch_size). */
#define TYPES_ZSECT_MAX ((uint64_t)8 << 30)

/* The GNU build-id note of an ELF file (elf) as lowercase hex into out,
 * left as it is ("") when there is none. */
static void elf_build_id(Elf *elf, char *out, size_t outsz)
{
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
}

/* The GNU build-id note of an ELF file as lowercase hex ("" if none). */
static void read_build_id(int fd, char *out, size_t outsz)
{
	out[0] = 0;
	if (elf_version(EV_CURRENT) == EV_NONE)
		return;
	Elf *elf = elf_begin(fd, ELF_C_READ, NULL);
	if (!elf)
		return;
	elf_build_id(elf, out, outsz);
	elf_end(elf);
}

/* libdwarf 20210528 frees a buffer twice when a .debug_rnglists unit header
 * is malformed (dwarf_load_rnglists' error path, found by the types fuzzer):
 * its unit headers are checked here first, and a bad one refuses the file
 * with a line instead of reaching libdwarf.  DWARF 5 section 7.28: unit_length
 * (4 bytes, or 0xffffffff and 8), version 5, address_size, segment selector
 * size 0, offset_entry_count. */
static int elf_rnglists_sane(Elf *elf, const char *path, struct err *e)
{
	int rc = 0;
	size_t shstrndx;
	if (elf_getshdrstrndx(elf, &shstrndx) != 0)
		return 0;   /* not ELF enough for this check: libdwarf's init says so */
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
	return rc;
}

static int rnglists_sane(int fd, const char *path, struct err *e)
{
	if (elf_version(EV_CURRENT) == EV_NONE)
		return 0;
	Elf *elf = elf_begin(fd, ELF_C_READ, NULL);
	if (!elf)
		return 0;   /* not ELF enough for this check: libdwarf's init says so */
	int rc = elf_rnglists_sane(elf, path, e);
	elf_end(elf);
	return rc;
}

static int write_all(int fd, const void *buf, uint64_t len, uint64_t off)
{
	const uint8_t *p = buf;
	while (len > 0) {
		ssize_t w = pwrite(fd, p, len > (1u << 30) ? (1u << 30) : (size_t)len, (off_t)off);
		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			return -1;
		p += w;
		off += (uint64_t)w;
		len -= (uint64_t)w;
	}
	return 0;
}

/* The section headers of the ELF file mapped at m (n bytes), bounds-checked:
 * NULL when it is not a 64-bit little-endian ELF file or they lie outside it. */
static const Elf64_Shdr *zsect_headers(const uint8_t *m, uint64_t n, uint64_t *count)
{
	Elf64_Ehdr eh;
	if (n < sizeof eh || memcmp(m, ELFMAG, SELFMAG) || m[EI_CLASS] != ELFCLASS64 || m[EI_DATA] != ELFDATA2LSB)
		return NULL;
	memcpy(&eh, m, sizeof eh);
	if (eh.e_shentsize != sizeof(Elf64_Shdr) || eh.e_shoff == 0 || eh.e_shoff % 8 || eh.e_shoff > n ||
	    n - eh.e_shoff < sizeof(Elf64_Shdr))
		return NULL;
	const Elf64_Shdr *sh = (const Elf64_Shdr *)(m + eh.e_shoff);
	uint64_t cnt = eh.e_shnum ? eh.e_shnum : sh[0].sh_size;   /* extended numbering */
	if (cnt == 0 || cnt > (n - eh.e_shoff) / sizeof(Elf64_Shdr))
		return NULL;
	*count = cnt;
	return sh;
}

/* Whether section i holds a zstd-compressed payload we can read. */
static bool zsect_is_zstd(const uint8_t *m, uint64_t n, const Elf64_Shdr *s)
{
	Elf64_Chdr ch;
	if (!(s->sh_flags & SHF_COMPRESSED) || s->sh_type == SHT_NOBITS || s->sh_offset > n ||
	    s->sh_size > n - s->sh_offset || s->sh_size < sizeof ch)
		return false;
	memcpy(&ch, m + s->sh_offset, sizeof ch);
	return ch.ch_type == TYPES_ELFCOMPRESS_ZSTD;
}

/* Copies the file into a memfd with its zstd sections decompressed.  Returns
 * the memfd (>= 0), -1 when the file has no zstd section (use it as it is),
 * or -2 with e set. */
static int zsect_expand(const uint8_t *m, uint64_t n, const char *path, struct err *e)
{
	uint64_t cnt = 0, nz = 0;
	const Elf64_Shdr *sh = zsect_headers(m, n, &cnt);
	for (uint64_t i = 0; sh && i < cnt; i++)
		nz += zsect_is_zstd(m, n, &sh[i]);
	if (!nz)
		return -1;
	Elf64_Shdr *nsh = malloc(cnt * sizeof *nsh);
	int fd = memfd_create("aggop-debug", MFD_CLOEXEC);
	if (!nsh || fd < 0) {
		free(nsh);
		if (fd >= 0)
			close(fd);
		err_set(e, ERR_IO, "%s: no memory to decompress its zstd debug sections", path);
		return -2;
	}
	memcpy(nsh, sh, cnt * sizeof *nsh);
	uint64_t end = n;
	const char *why = write_all(fd, m, n, 0) ? "cannot write the decompressed copy" : NULL;
	for (uint64_t i = 0; !why && i < cnt; i++) {
		if (!zsect_is_zstd(m, n, &sh[i]))
			continue;
		Elf64_Chdr ch;
		memcpy(&ch, m + sh[i].sh_offset, sizeof ch);
		if (ch.ch_size > TYPES_ZSECT_MAX) {
			why = "a zstd section claims an impossible size";
			break;
		}
		void *buf = malloc(ch.ch_size ? ch.ch_size : 1);
		if (!buf) {
			why = "out of memory";
			break;
		}
		size_t got = ZSTD_decompress(buf, ch.ch_size, m + sh[i].sh_offset + sizeof ch, sh[i].sh_size - sizeof ch);
		end = (end + 15) & ~(uint64_t)15;
		if (ZSTD_isError(got) || got != ch.ch_size)
			why = ZSTD_isError(got) ? ZSTD_getErrorName(got) : "a zstd section decompresses to the wrong size";
		else if (write_all(fd, buf, got, end))
			why = "cannot write the decompressed copy";
		free(buf);
		nsh[i].sh_offset = end;
		nsh[i].sh_size = ch.ch_size;
		nsh[i].sh_flags &= ~(uint64_t)SHF_COMPRESSED;
		nsh[i].sh_addralign = ch.ch_addralign ? ch.ch_addralign : 1;
		end += ch.ch_size;
	}
	end = (end + 7) & ~(uint64_t)7;
	Elf64_Ehdr eh;
	memcpy(&eh, m, sizeof eh);
	eh.e_shoff = end;
	if (!why && (write_all(fd, nsh, cnt * sizeof *nsh, end) || write_all(fd, &eh, sizeof eh, 0)))
		why = "cannot write the decompressed copy";
	free(nsh);
	if (why) {
		close(fd);
		err_set(e, ERR_INPUT, "%s: its zstd-compressed debug sections cannot be read: %s", path, why);
		return -2;
	}
	return fd;
}

/* Whether the section headers of the file (n bytes), as zsect_headers reads
 * them, flag a section SHF_COMPRESSED: read with pread, so that the common
 * file without one is not mapped (a mapping per open was a tenth of the
 * types fuzzer's time, most of it the unmap's TLB flush).  Headers
 * zsect_headers would refuse are not flagged either: zsect_expand finds
 * nothing in them. */
static bool zsect_flagged(int fd, uint64_t n)
{
	Elf64_Ehdr eh;
	if (pread(fd, &eh, sizeof eh, 0) != (ssize_t)sizeof eh)
		return false;
	Elf64_Shdr first;
	if (memcmp(eh.e_ident, ELFMAG, SELFMAG) || eh.e_ident[EI_CLASS] != ELFCLASS64 ||
	    eh.e_ident[EI_DATA] != ELFDATA2LSB || eh.e_shentsize != sizeof(Elf64_Shdr) || eh.e_shoff == 0 ||
	    eh.e_shoff % 8 || eh.e_shoff > n || n - eh.e_shoff < sizeof first ||
	    pread(fd, &first, sizeof first, (off_t)eh.e_shoff) != (ssize_t)sizeof first)
		return false;
	uint64_t cnt = eh.e_shnum ? eh.e_shnum : first.sh_size;
	if (cnt == 0 || cnt > (n - eh.e_shoff) / sizeof(Elf64_Shdr))
		return false;
	Elf64_Shdr buf[64];
	for (uint64_t i = 0; i < cnt;) {
		size_t k = cnt - i < 64 ? (size_t)(cnt - i) : 64;
		if (pread(fd, buf, k * sizeof *buf, (off_t)(eh.e_shoff + i * sizeof *buf)) != (ssize_t)(k * sizeof *buf))
			return true;   /* unreadable here: let the mapping decide */
		for (size_t j = 0; j < k; j++)
			if (buf[j].sh_flags & SHF_COMPRESSED)
				return true;
		i += k;
	}
	return false;
}

/* Replaces *fd by a memfd copy with zstd sections decompressed, if it has
 * any.  0, or ERR_INPUT / ERR_IO with e set. */
static int zsect_prepare(int *fd, const char *path, struct err *e)
{
	struct stat st;
	if (fstat(*fd, &st) != 0 || !S_ISREG(st.st_mode) || st.st_size < (off_t)sizeof(Elf64_Ehdr))
		return 0;   /* libdwarf's init says what is wrong with it */
	if (!zsect_flagged(*fd, (uint64_t)st.st_size))
		return 0;   /* no compressed section: nothing to map */
	void *m = mmap(NULL, (size_t)st.st_size, PROT_READ, MAP_PRIVATE, *fd, 0);
	if (m == MAP_FAILED)
		return 0;
	int nfd = zsect_expand(m, (uint64_t)st.st_size, path, e);
	munmap(m, (size_t)st.st_size);
	if (nfd == -2)
		return e->code;
	if (nfd >= 0) {
		close(*fd);
		*fd = nfd;
	}
	return 0;
}

bool types_file_build_id(const char *path, char *out, size_t outsz)
{
	out[0] = 0;
	int fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK);
	if (fd < 0)
		return false;
	struct stat st;
	if (fstat(fd, &st) == 0 && S_ISREG(st.st_mode))
		read_build_id(fd, out, outsz);
	close(fd);
	return true;
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
	struct stat st;
	int rc;
	if (fstat(f->fd, &st) == 0 && S_ISREG(st.st_mode) && !zsect_flagged(f->fd, (uint64_t)st.st_size) &&
	    elf_version(EV_CURRENT) != EV_NONE) {
		/* no compressed section (the common case): the build id and
		 * the .debug_rnglists check in one libelf pass over the file */
		Elf *elf = elf_begin(f->fd, ELF_C_READ, NULL);
		rc = 0;
		if (elf) {
			elf_build_id(elf, f->build_id, sizeof f->build_id);
			rc = elf_rnglists_sane(elf, path, e);
			elf_end(elf);
		}
	} else {
		read_build_id(f->fd, f->build_id, sizeof f->build_id);
		rc = zsect_prepare(&f->fd, path, e) || rnglists_sane(f->fd, path, e);
	}
	if (rc) {
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

bool types_file_debug_path(const char *root, const char *id, char *out, size_t n)
{
	if (strlen(id) <= 2)
		return false;
	int w = snprintf(out, n, "%s/.build-id/%.2s/%s.debug", root, id, id + 2);
	return w > 0 && (size_t)w < n;
}
