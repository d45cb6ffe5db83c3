/* fuzz_image.c: the core reader (src/image*.c) on hostile cores.
 *
 * Input: a whole core file.  It is opened twice, without an executable and
 * with the C probe's (build/fixtures/probes/c/exe, when present: the seeds
 * are trimmed cores of that probe, so the build-id check, the PIE bias and
 * the NT_FILE fallback run), and every reader is exercised: each segment's
 * edges, ranges across segments, the missing-byte count, the pread window,
 * the threads' stacks and the auxv's addresses, plus addresses taken from
 * the input's last bytes.  Seeds: tests/fuzz/corpus/image (trimmed kernel
 * and gdb cores, see mkseeds.sh). */
#include "fuzz.h"
#include "image.h"

#include <elf.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static struct fuzz_file core;
static char exe[4096];

int fuzz_init(void)
{
	snprintf(exe, sizeof exe, "%s", fuzz_fixture("probes/c/exe"));
	if (access(exe, R_OK) != 0)
		exe[0] = '\0'; /* then only the open without an executable runs */
	return fuzz_file_init(&core, "fuzz-core");
}

static void read_at(const struct image *img, uint64_t addr, size_t len)
{
	uint8_t buf[256];
	struct err e;
	if (len > sizeof buf)
		len = sizeof buf;
	image_read(img, addr, buf, len, &e);
	image_ptr(img, addr, len);
	image_missing(img, addr, len);
	image_mapped(img, addr, len);
	uint64_t v;
	uint32_t w;
	image_read_u64(img, addr, &v, &e);
	image_read_u32(img, addr, &w, &e);
}

static void exercise(const struct image *img, const uint8_t *data, size_t size)
{
	size_t n = image_segment_count(img);
	uint8_t buf[512];
	for (size_t i = 0; i < n && i < 256; i++) {
		const struct image_segment *s = image_segment(img, i);
		uint64_t len = s->end - s->start;
		read_at(img, s->start, 64);
		read_at(img, s->end - 8, 16);     /* across the end */
		read_at(img, s->start + s->filesz - 4, 8);
		image_missing(img, s->start, len);
		image_mapped(img, s->start, len);
		image_segment_at(img, s->start + len / 2);
		image_pread(img, s->start, buf, sizeof buf);
		if (image_window(img, s->start, s->start + (len < 65536 ? len : 65536))) {
			read_at(img, s->start + 8, 32);
			image_release(img, s->start, s->end);
		}
	}
	image_window(img, 0, 0); /* drop the window: reads go to the core again */
	for (size_t i = 0; i < image_thread_count(img) && i < 64; i++) {
		const struct image_thread *t = image_thread(img, i);
		read_at(img, t->rsp, 128);
		read_at(img, t->rip, 16);
		read_at(img, t->fs_base, 64);
	}
	static const uint64_t auxv[] = {AT_PHDR, AT_ENTRY, AT_BASE, AT_SYSINFO_EHDR, AT_RANDOM, AT_EXECFN,
					AT_PLATFORM};
	for (size_t i = 0; i < sizeof auxv / sizeof auxv[0]; i++) {
		uint64_t v;
		if (image_auxv(img, auxv[i], &v))
			read_at(img, v, 64);
	}
	/* addresses from the input: the last 64 bytes, 8 at a time */
	for (size_t o = size > 64 ? size - 64 : 0; o + 8 <= size; o += 8)
		read_at(img, fuzz_rd64(data + o), 200);
	(void)image_core_build_id(img);
	(void)image_exe_build_id(img);
	(void)image_build_id_check(img);
	(void)image_core_kind(img);
	(void)image_bias(img);
	(void)image_machine(img);
	(void)image_core_size(img);
}

void fuzz_one(const uint8_t *data, size_t size)
{
	struct image *img;
	struct err e;

	if (fuzz_file_set(&core, data, size))
		return;
	if (image_open(&img, core.path, NULL, &e) == 0) {
		exercise(img, data, size);
		image_close(img);
	}
	if (exe[0] && image_open(&img, core.path, exe, &e) == 0) {
		exercise(img, data, size);
		image_close(img);
	}
}

int fuzz_materialize(const uint8_t *data, size_t size, const char *dir, FILE *args)
{
	char path[4096];
	snprintf(path, sizeof path, "%s/core", dir);
	if (!exe[0] || fuzz_write(path, data, size))
		return -1;
	fprintf(args, "heap\n%s\n%s\n", path, exe);
	return 0;
}
