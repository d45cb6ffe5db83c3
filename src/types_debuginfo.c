/* types_debuginfo.c: where a stripped executable's debug info is found.
 *
 * The places gdb looks, named so the report can say which one answered:
 *   - the build-id directory: ROOT/.build-id/xx/rest.debug, for --debug-dir
 *     and then the global debug directory (/usr/lib/debug, or
 *     AGGOP_DEBUG_ROOT for tests);
 *   - .gnu_debuglink: NAME (checked by CRC32) in the executable's directory,
 *     in its .debug/ subdirectory, and under the debug roots followed by the
 *     executable's directory;
 *   - debuginfod, through elfutils' libdebuginfod, loaded with dlopen as
 *     elfutils and drgn do, so the tool runs where it is not installed.  It
 *     honours DEBUGINFOD_URLS, its cache ($XDG_CACHE_HOME/debuginfod_client)
 *     and DEBUGINFOD_TIMEOUT itself.
 * Which one is tried when, and the build-id check of whatever is found, is
 * types.c's business.  Nothing here reads DWARF.
 */
#include "types_priv.h"

#include <dlfcn.h>
#include <fcntl.h>
#include <gelf.h>
#include <libelf.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>

/* Opens the ELF file at path and finds its first section named `name` or
 * `alt` (NULL: none) that has contents; with fn, returns what fn says of
 * that section's data, else whether there is one. */
static bool with_section(const char *path, const char *name, const char *alt,
			 bool (*fn)(const Elf_Data *d, void *ctx), void *ctx)
{
	bool found = false, ok = false;
	int fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK);
	if (fd < 0 || elf_version(EV_CURRENT) == EV_NONE) {
		if (fd >= 0)
			close(fd);
		return false;
	}
	Elf *elf = elf_begin(fd, ELF_C_READ, NULL);
	size_t shstrndx;
	if (elf && elf_getshdrstrndx(elf, &shstrndx) == 0)
		for (Elf_Scn *scn = NULL; !found && (scn = elf_nextscn(elf, scn));) {
			GElf_Shdr sh;
			const char *nm;
			found = gelf_getshdr(scn, &sh) && sh.sh_type != SHT_NOBITS && sh.sh_size > 0 &&
				(nm = elf_strptr(elf, shstrndx, sh.sh_name)) &&
				(strcmp(nm, name) == 0 || (alt && strcmp(nm, alt) == 0));
			if (found)
				ok = fn ? fn(elf_getdata(scn, NULL), ctx) : true;
		}
	if (elf)
		elf_end(elf);
	close(fd);
	return ok;
}

struct debuglink {
	char *name;
	size_t namesz;
	uint32_t *crc;
};

/* .gnu_debuglink: a NUL-terminated name, padded to 4, then the CRC32 (gdb's
 * "Debugging Information in Separate Files"). */
static bool read_debuglink(const Elf_Data *d, void *ctx)
{
	struct debuglink *l = ctx;
	if (!d || !d->d_buf || d->d_size < 8)
		return false;
	const char *b = d->d_buf;
	size_t len = strnlen(b, d->d_size);
	size_t crc_off = (len + 4) & ~(size_t)3;
	if (len == 0 || len >= l->namesz || crc_off + 4 > d->d_size || memchr(b, '/', len))
		return false;
	memcpy(l->name, b, len + 1);
	memcpy(l->crc, b + crc_off, 4);
	return true;
}

bool types_debuglink(const char *path, char *name, size_t namesz, uint32_t *crc)
{
	struct debuglink l = {name, namesz, crc};
	return with_section(path, ".gnu_debuglink", NULL, read_debuglink, &l);
}

bool types_has_debug_info(const char *path)
{
	return with_section(path, ".debug_info", ".zdebug_info", NULL, NULL);
}

bool types_crc_matches(const char *path, uint32_t want)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK);
	struct stat st;
	bool ok = false;
	if (fd < 0)
		return false;
	if (fstat(fd, &st) == 0 && S_ISREG(st.st_mode) && st.st_size > 0) {
		void *m = mmap(NULL, (size_t)st.st_size, PROT_READ, MAP_PRIVATE, fd, 0);
		if (m != MAP_FAILED) {
			uLong c = crc32(0, Z_NULL, 0);
			for (off_t off = 0; off < st.st_size;) {
				uInt n = st.st_size - off > (1 << 30) ? (1u << 30) : (uInt)(st.st_size - off);
				c = crc32(c, (const Bytef *)m + off, n);
				off += n;
			}
			ok = (uint32_t)c == want;
			munmap(m, (size_t)st.st_size);
		}
	}
	close(fd);
	return ok;
}

/* ------------------------------------------------------------ debuginfod */

/* elfutils' debuginfod.h, the four entry points used (libdebuginfod.so.1's
 * ABI, stable since elfutils 0.178). */
typedef struct debuginfod_client debuginfod_client;
typedef int (*dbgd_progress_fn)(debuginfod_client *c, long a, long b);
struct dbgd {
	void *lib;
	debuginfod_client *(*begin)(void);
	void (*end)(debuginfod_client *);
	int (*find_debuginfo)(debuginfod_client *, const unsigned char *, int, char **);
	void (*set_progressfn)(debuginfod_client *, dbgd_progress_fn);
};

/* A large download shows its progress on a terminal (the one thing below
 * main that prints, like the walk's progress line); small ones stay quiet. */
#define TYPES_DBGD_PROGRESS_MIN (4L << 20)
static int dbgd_progress(debuginfod_client *c, long got, long total)
{
	(void)c;
	if (total >= TYPES_DBGD_PROGRESS_MIN && isatty(2))
		fprintf(stderr, "\raggop-inspect: debuginfod: %ld of %ld MiB", got >> 20, total >> 20);
	return 0;
}

int types_debuginfod(const char *build_id, bool progress, char *path, size_t pathsz, char *why, size_t whysz)
{
	const char *urls = getenv("DEBUGINFOD_URLS");
	if (!urls || !*urls) {
		snprintf(why, whysz, "debuginfod (DEBUGINFOD_URLS not set)");
		return ERR_NOTFOUND;
	}
	/* Never dlclosed (RTLD_NODELETE): libcurl, under libdebuginfod, keeps
	 * global state that must stay reachable for the process's life. */
	struct dbgd d = {.lib = dlopen("libdebuginfod.so.1", RTLD_NOW | RTLD_LOCAL | RTLD_NODELETE)};
	if (!d.lib) {
		snprintf(why, whysz, "debuginfod (libdebuginfod.so.1 not installed)");
		return ERR_NOTFOUND;
	}
	*(void **)&d.begin = dlsym(d.lib, "debuginfod_begin");
	*(void **)&d.end = dlsym(d.lib, "debuginfod_end");
	*(void **)&d.find_debuginfo = dlsym(d.lib, "debuginfod_find_debuginfo");
	*(void **)&d.set_progressfn = dlsym(d.lib, "debuginfod_set_progressfn");
	int rc = ERR_NOTFOUND;
	debuginfod_client *c = d.begin && d.end && d.find_debuginfo ? d.begin() : NULL;
	if (!c) {
		snprintf(why, whysz, "debuginfod (libdebuginfod.so.1 unusable)");
	} else {
		if (progress && d.set_progressfn)
			d.set_progressfn(c, dbgd_progress);
		char *got = NULL;
		int fd = d.find_debuginfo(c, (const unsigned char *)build_id, 0, &got);
		if (progress && isatty(2))
			fputs("\r\033[K", stderr);
		if (fd >= 0 && got && strlen(got) < pathsz) {
			snprintf(path, pathsz, "%s", got);
			rc = 0;
		} else {
			snprintf(why, whysz, "debuginfod at %s (%s)", urls,
				 fd >= 0 ? "path too long" : strerror(-fd));
		}
		if (fd >= 0)
			close(fd);
		free(got);
		d.end(c);
	}
	dlclose(d.lib);
	return rc;
}
