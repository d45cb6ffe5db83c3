/* tool_run.h: running the tool binary ($BIN) from a test and loading JSON. */
#ifndef AGGOP_TOOL_RUN_H
#define AGGOP_TOOL_RUN_H

#include <jansson.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>

/* Runs "$BIN <args>" through the shell, stderr into errbuf; returns the exit status. */
static inline int tool_run(char *errbuf, size_t errsize, const char *fmt, ...)
{
	char args[4096], cmd[8192], errfile[] = "/tmp/aggop-test-err-XXXXXX";
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(args, sizeof args, fmt, ap);
	va_end(ap);
	int fd = mkstemp(errfile);
	if (fd < 0)
		return -1;
	close(fd);
	const char *bin = getenv("BIN") ? getenv("BIN") : "./aggop-inspect";
	snprintf(cmd, sizeof cmd, "%s %s 2>%s", bin, args, errfile);
	int st = system(cmd);
	if (errbuf && errsize) {
		FILE *f = fopen(errfile, "r");
		size_t n = f ? fread(errbuf, 1, errsize - 1, f) : 0;
		errbuf[n] = 0;
		if (f)
			fclose(f);
	}
	unlink(errfile);
	return WIFEXITED(st) ? WEXITSTATUS(st) : 128;
}

static inline json_t *load_json(const char *path)
{
	json_error_t je;
	json_t *j = json_load_file(path, 0, &je);
	if (!j)
		fprintf(stderr, "%s: %s\n", path, je.text);
	return j;
}

static inline long long jint(json_t *o, const char *path)
{
	char buf[256];
	snprintf(buf, sizeof buf, "%s", path);
	json_t *cur = o;
	for (char *tok = strtok(buf, "."); tok && cur; tok = strtok(NULL, "."))
		cur = json_object_get(cur, tok);
	return json_is_integer(cur) ? (long long)json_integer_value(cur) : -1;
}

static inline const char *fixdir(void)
{
	return getenv("FIXDIR") ? getenv("FIXDIR") : "build/fixtures";
}

#endif
