/* test_image_live.c: the image layer's production inputs, without fixtures.
 *
 *   - image_open_pid on a child of this test: the child writes a pattern of
 *     its own into memory the parent allocated before the fork (same
 *     address in both), starts a second thread, and sleeps; the image must
 *     hold the child's bytes (not the parent's), both threads with their
 *     thread ids, and the auxv's AT_ENTRY; afterwards the child is running
 *     (state S or R) and untraced (TracerPid 0).  A refused attach (no such
 *     process) is ERR_INPUT and touches nothing.
 *   - compressed streams made in-process with the libraries themselves:
 *     a zstd stream that is not a core is refused as one; concatenated gzip
 *     members and concatenated zstd frames decode whole; a stream cut short
 *     is ERR_INPUT saying "truncated".
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <elf.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/auxv.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>
#include <zlib.h>
#include <zstd.h>

#include "image.h"

#define PATTERN_LEN 8192

static void *sleeper(void *arg)
{
	int *tid = arg;
	*tid = (int)syscall(SYS_gettid);
	for (;;)
		pause();
	return NULL;
}

/* "State" letter and TracerPid of pid. */
static void proc_status(int pid, char *state, long *tracer)
{
	char path[64], line[256];
	snprintf(path, sizeof path, "/proc/%d/status", pid);
	FILE *f = fopen(path, "r");
	*state = '?';
	*tracer = -1;
	assert_non_null(f);
	while (fgets(line, sizeof line, f)) {
		if (strncmp(line, "State:", 6) == 0)
			sscanf(line + 6, " %c", state);
		if (strncmp(line, "TracerPid:", 10) == 0)
			*tracer = strtol(line + 10, NULL, 10);
	}
	fclose(f);
}

static void test_pid(void **state)
{
	(void)state;
	uint8_t *buf = malloc(PATTERN_LEN);
	int *tid2 = malloc(sizeof *tid2);
	int fds[2];
	assert_non_null(buf);
	assert_non_null(tid2);
	memset(buf, 0xee, PATTERN_LEN);   /* the parent's bytes: the image must not show them */
	assert_int_equal(pipe(fds), 0);
	pid_t child = fork();
	assert_true(child >= 0);
	if (child == 0) {
		pthread_t t;
		prctl(PR_SET_PDEATHSIG, SIGKILL);   /* never outlive a test that failed */
		for (size_t i = 0; i < PATTERN_LEN; i++)
			buf[i] = (uint8_t)(i * 7 + 3);
		*tid2 = 0;
		pthread_create(&t, NULL, sleeper, tid2);
		while (!__atomic_load_n(tid2, __ATOMIC_SEQ_CST))
			usleep(1000);
		int v = *tid2;
		if (write(fds[1], &v, sizeof v) != sizeof v)
			_exit(1);
		for (;;)
			pause();
	}
	int other = 0;
	assert_int_equal(read(fds[0], &other, sizeof other), sizeof other);
	struct image *img = NULL;
	struct image_pid_stats st = {0};
	struct err e = {0};
	int rc = image_open_pid(&img, child, NULL, &st, &e);
	if (rc) {
		kill(child, SIGKILL);
		waitpid(child, NULL, 0);
		fail_msg("image_open_pid: %s", e.msg);
	}
	uint8_t got[PATTERN_LEN];
	assert_int_equal(image_read(img, (uint64_t)(uintptr_t)buf, got, sizeof got, &e), 0);
	for (size_t i = 0; i < PATTERN_LEN; i++)
		assert_int_equal(got[i], (uint8_t)(i * 7 + 3));
	assert_int_equal(st.threads, 2);
	assert_int_equal(image_thread_count(img), 2);
	assert_int_equal(image_thread(img, 0)->pid, child);
	assert_int_equal(image_thread(img, 1)->pid, other);
	uint64_t entry = 0;
	assert_true(image_auxv(img, AT_ENTRY, &entry));
	assert_int_equal(entry, getauxval(AT_ENTRY));
	assert_string_equal(image_core_kind(img), "live");
	assert_true(st.stopped_seconds > 0 && st.stopped_seconds < 30);
	image_close(img);
	char s;
	long tracer;
	proc_status(child, &s, &tracer);
	assert_true(s == 'S' || s == 'R');
	assert_int_equal(tracer, 0);
	kill(child, SIGKILL);
	waitpid(child, NULL, 0);
	/* a process that does not exist: one line, nothing attached */
	assert_int_equal(image_open_pid(&img, child, NULL, &st, &e), ERR_INPUT);
	assert_null(img);
	assert_non_null(strstr(e.msg, "no process"));
	free(buf);
	free(tid2);
	close(fds[0]);
	close(fds[1]);
}

static char *write_tmp(const void *p, size_t n)
{
	char *path = strdup("/tmp/aggop-live-XXXXXX");
	int fd = mkstemp(path);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, p, n), (ssize_t)n);
	close(fd);
	return path;
}

static int open_bytes(const void *p, size_t n, struct err *e)
{
	char *path = write_tmp(p, n);
	struct image *img = NULL;
	int rc = image_open(&img, path, NULL, e);
	image_close(img);
	unlink(path);
	free(path);
	return rc;
}

static void test_streams(void **state)
{
	(void)state;
	struct err e = {0};
	static uint8_t plain[1 << 16];
	for (size_t i = 0; i < sizeof plain; i++)
		plain[i] = (uint8_t)(i % 251);
	/* zstd: two frames back to back; the content is no core */
	size_t cap = ZSTD_compressBound(sizeof plain);
	uint8_t *z = malloc(2 * cap);
	size_t n1 = ZSTD_compress(z, cap, plain, sizeof plain, 3);
	assert_false(ZSTD_isError(n1));
	size_t n2 = ZSTD_compress(z + n1, cap, plain, sizeof plain, 3);
	assert_false(ZSTD_isError(n2));
	assert_int_equal(open_bytes(z, n1 + n2, &e), ERR_INPUT);
	assert_non_null(strstr(e.msg, "not an ELF core"));   /* decoded whole, then judged */
	assert_int_equal(open_bytes(z, n1 + n2 / 2, &e), ERR_INPUT);
	assert_non_null(strstr(e.msg, "truncated"));
	/* gzip: two members; cut */
	uint8_t *g = malloc(2 * (sizeof plain + 1024));
	size_t gl = 0;
	for (int m = 0; m < 2; m++) {
		z_stream zs = {0};
		assert_int_equal(deflateInit2(&zs, 6, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY), Z_OK);
		zs.next_in = plain;
		zs.avail_in = sizeof plain;
		zs.next_out = g + gl;
		zs.avail_out = sizeof plain + 1024;
		assert_int_equal(deflate(&zs, Z_FINISH), Z_STREAM_END);
		gl += zs.total_out;
		deflateEnd(&zs);
	}
	assert_int_equal(open_bytes(g, gl, &e), ERR_INPUT);
	assert_non_null(strstr(e.msg, "not an ELF core"));
	assert_int_equal(open_bytes(g, gl - 40, &e), ERR_INPUT);
	assert_non_null(strstr(e.msg, "truncated"));
	/* just a magic number */
	static const uint8_t magic[] = {0x28, 0xb5, 0x2f, 0xfd};
	assert_int_equal(open_bytes(magic, sizeof magic, &e), ERR_INPUT);
	assert_non_null(strstr(e.msg, "zstd"));
	free(z);
	free(g);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_pid),
		cmocka_unit_test(test_streams),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
