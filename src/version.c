/* version.c: the record of detected dependency versions (see include/version.h). */
#include "version.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

bool version_note(struct version_facts *f, const char *dep, const char *what, const char *value,
		  const char *fmt, ...)
{
	for (size_t i = 0; i < f->len; i++)
		if (strcmp(f->data[i].dep, dep) == 0 && strcmp(f->data[i].what, what) == 0 &&
		    strcmp(f->data[i].value, value) == 0)
			return true;
	struct version_fact *v = version_facts_push(f);
	if (!v)
		return false;
	snprintf(v->dep, sizeof v->dep, "%s", dep);
	snprintf(v->what, sizeof v->what, "%s", what);
	snprintf(v->value, sizeof v->value, "%s", value);
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(v->evidence, sizeof v->evidence, fmt, ap);
	va_end(ap);
	return true;
}
