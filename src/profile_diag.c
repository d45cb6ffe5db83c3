/* profile_diag.c: the profile's diagnostics (include/profile.h): when the
 * root cannot be found or reaches nothing, the error says what the user
 * could name instead (the statics that can hold the enum, the flags to
 * pick one) and what the walk did meet.
 */
#include "profile_int.h"

#include <inttypes.h>
#include <stdio.h>
#include <string.h>

/* "A, B and 3 more": the statics whose type can hold the enum, the places
 * a user would point --root at; "" when none. */
void diag_statics_holding(const struct types *t, const char *enum_name, char *buf, size_t size)
{
	size_t n = 0, len = 0;
	type_id want;
	struct reach_memo memo;
	buf[0] = 0;
	if (!enum_name || types_lookup(t, enum_name, &want, NULL) != 0)
		return;
	want = types_resolve(t, want);
	reach_memo_init(&memo);
	for (size_t i = 0; i < types_static_count(t); i++) {
		const struct types_static *st = types_static_at(t, i);
		if (!generic_reaches(t, st->type, want, &memo, 0))
			continue;
		if (n++ < 4 && len < size)
			len += (size_t)snprintf(buf + len, size - len, "%s%s", n > 1 ? ", " : "", st->name);
	}
	if (n > 4 && len < size)
		snprintf(buf + len, size - len, " and %zu more", n - 4);
	reach_memo_deinit(&memo);
}

/* Without --root, the built-in target looks for its own root type; when the
 * executable has none, the user meant generic mode: say how. */
int diag_target_root_missing(const struct types *t, const struct target *tg, const struct profile *p,
			       const struct profile_options *opt, struct err *e)
{
	type_id id;
	char inner[300], holders[300];
	snprintf(inner, sizeof inner, "alloc::sync::ArcInner<%s", tg->root_type);
	if (types_lookup(t, tg->root_type, &id, NULL) == 0)
		return 0;
	diag_statics_holding(t, p->enum_name, holders, sizeof holders);
	const char *en = opt->enum_name ? opt->enum_name : "ENUM";
	if (holders[0])
		return err_set(e, ERR_USAGE, "%s%s without --root: this executable has no %s (the built-in %s target's "
			       "root); name the static holding the %s values: --root STATIC --enum %s (statics that can "
			       "hold %s values: %s)", opt->enum_name ? "--enum " : "no --root", opt->enum_name ? opt->enum_name : "",
			       tg->root_type, tg->name, en, en, en, holders);
	return err_set(e, ERR_USAGE, "%s%s without --root: this executable has no %s (the built-in %s target's root); "
		       "name the static holding the values: --root STATIC --enum %s", opt->enum_name ? "--enum " : "no --root",
		       opt->enum_name ? opt->enum_name : "", tg->root_type, tg->name, en);
}

/* A generic root that reached no value of the enum: what it did reach. */
int diag_reached_nothing(const struct run *r, const struct profile_options *opt, struct err *e)
{
	const struct profile *p = r->p;
	char kinds[200] = "", holders[300];
	size_t len = 0, n = 0;
	uint64_t allocs = 0;
	for (int k = 0; k < WALK_KIND_COUNT; k++) {
		allocs += r->outside_kinds[k];
		if (r->outside_kinds[k] && len < sizeof kinds)
			len += (size_t)snprintf(kinds + len, sizeof kinds - len, "%s%" PRIu64 " %s", n++ ? ", " : "",
						r->outside_kinds[k], walk_kind_name((enum walk_kind)k));
	}
	diag_statics_holding(r->t, p->enum_name, holders, sizeof holders);
	char from[sizeof p->root_type + 8];
	snprintf(from, sizeof from, p->root_type[0] ? "its %s" : "it (a type with no name)", p->root_type);
	return err_set(e, ERR_INPUT, "--root %s reaches no %s value: from %s the walk met %" PRIu64 " values and %"
		       PRIu64 " heap allocations (%" PRIu64 " bytes requested%s%s%s) and none of them is a %s; point --root "
		       "at a static that holds %s values%s%s%s", opt->root, p->enum_name, from, p->walk.values,
		       allocs, r->outside_requested, n ? ": " : "", kinds, "", p->enum_name, p->enum_name,
		       holders[0] ? " (statics that can hold them: " : "", holders, holders[0] ? ")" : "");
}

int diag_no_such_static(const struct types *t, const struct profile *p, const struct profile_options *opt,
			const char *enum_name, int rc, struct err *e)
{
	const struct types_static *st;
	if (strncmp(opt->root, "0x", 2) != 0 && types_static_lookup(t, opt->root, &st, NULL) != 0) {
		char holders[300], first[200];
		diag_statics_holding(t, p->enum_name, holders, sizeof holders);
		snprintf(first, sizeof first, "%.*s", (int)strcspn(holders, ","), holders);
		if (holders[0])
			rc = err_set(e, ERR_INPUT, "--root %s: no static of that name in the executable's DWARF; "
				     "statics that can hold %s values: %s (e.g. --root %s --enum %s)", opt->root,
				     p->enum_name, holders, first, enum_name);
		else
			rc = err_set(e, ERR_INPUT, "--root %s: no static of that name in the executable's DWARF, "
				     "and no static can hold a %s value (is this the right executable?)", opt->root,
				     p->enum_name);
	}
	return rc;
}
