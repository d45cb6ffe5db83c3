/* main.c: the command line's entry point.  Picks the subcommand from
 * argv[1] (layout, heap, diff, export; anything else is the profile
 * command's) and hands the arguments to its driver in the command layer
 * (include/cmd.h), whose return value is the exit status.  No logic of its
 * own. */
#include <malloc.h>
#include <string.h>

#include "cmd.h"

static const struct {
	const char *name;
	int (*run)(int argc, char **argv);
} COMMANDS[] = {
	{"layout", cmd_layout}, {"heap", cmd_heap}, {"diff", cmd_diff}, {"export", cmd_export},
};

int main(int argc, char **argv)
{
	/* The tool's big arrays (census words, mark map, op records) grow by
	 * realloc.  A fixed mmap threshold keeps every block of 1 MiB or more
	 * mmapped, so growing one is an mremap, never a copy into fresh pages
	 * (glibc's sliding threshold would move them into the heap after the
	 * first big free). */
	mallopt(M_MMAP_THRESHOLD, 1 << 20);
	for (size_t i = 0; argc > 1 && i < sizeof COMMANDS / sizeof COMMANDS[0]; i++)
		if (strcmp(argv[1], COMMANDS[i].name) == 0)
			return COMMANDS[i].run(argc - 1, argv + 1);
	return cmd_profile(argc, argv);
}
