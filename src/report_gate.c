/* report_gate.c: the diff's gate (include/report.h): expressions that name
 * figures and limits, read from --fail-if or a thresholds file, evaluated on
 * a diff; what exceeds its limit is kept in the diff as a breach.
 *
 * An expression is FIGURE OP LIMIT (LIMIT a value, a change, a change in
 * percent, or a ratio xF: new / old).  The operator is the last '<' or '>' in
 * the text (a field path holds " > " between its segments; a limit never
 * holds either), optionally followed by '='.  Absolute and signed limits are
 * compared as integers, exactly; percentages as doubles.  An expression that
 * matches no figure of either profile is an error: a misspelt name must not
 * let every run pass.
 */
#include "report_diff_int.h"

#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

enum gate_mode { GATE_VALUE, GATE_CHANGE, GATE_RELATIVE, GATE_RATIO };

struct gate_expr {
	char *text;                 /* as written, trimmed */
	char *pattern;              /* the figure; '*' matches any run */
	char *limit;                /* the operator and the limit as written */
	bool greater, or_equal;
	enum gate_mode mode;
	int64_t n;                  /* GATE_VALUE, GATE_CHANGE */
	double pct;                 /* GATE_RELATIVE: percent; GATE_RATIO: the factor new / old */
};
DEFINE_VECTOR(gate_exprs, struct gate_expr)

struct report_gate {
	struct gate_exprs exprs;
};

int report_gate_create(struct report_gate **out, struct err *e)
{
	if (!(*out = calloc(1, sizeof **out)))
		return err_set(e, ERR_NOMEM, "out of memory");
	return 0;
}

void report_gate_free(struct report_gate *g)
{
	if (!g)
		return;
	for (size_t i = 0; i < g->exprs.len; i++) {
		free(g->exprs.data[i].text);
		free(g->exprs.data[i].pattern);
		free(g->exprs.data[i].limit);
	}
	gate_exprs_deinit(&g->exprs);
	free(g);
}

static char *trimmed(const char *s, size_t n)
{
	while (n && isspace((unsigned char)*s))
		s++, n--;
	while (n && isspace((unsigned char)s[n - 1]))
		n--;
	return strndup(s, n);
}

static const struct {
	const char *name;
	uint64_t mult;
} units[] = {{"KiB", 1ull << 10}, {"MiB", 1ull << 20}, {"GiB", 1ull << 30}, {"KB", 1000}, {"MB", 1000000},
	     {"GB", 1000000000}, {"B", 1}};

/* LIMIT: [+|-]NUMBER[unit][%], or xFACTOR (new / old). */
static int parse_limit(struct gate_expr *x, const char *s, const char *expr, struct err *e)
{
	char *end;
	if (*s == 'x') {
		errno = 0;
		double f = strtod(s + 1, &end);
		if (end == s + 1 || *end || errno || !isfinite(f) || f < 0 || !isdigit((unsigned char)s[1]))
			return err_set(e, ERR_USAGE, "gate '%s': the ratio '%s' is not a factor (e.g. x1.5: new over 1.5 times "
				       "old)", expr, s);
		x->mode = GATE_RATIO;
		x->pct = f;
		return 0;
	}
	bool sign = *s == '+' || *s == '-';
	errno = 0;
	double v = strtod(s, &end);
	if (end == s || errno || !isfinite(v) || !isdigit((unsigned char)s[sign]))
		return err_set(e, ERR_USAGE, "gate '%s': the limit '%s' is not a number (e.g. 80, +1MiB, +5%%)", expr, s);
	if (*end == '%') {
		if (!sign)
			return err_set(e, ERR_USAGE, "gate '%s': a percentage is a change: write it with its sign "
				       "(+5%% or -5%%)", expr);
		if (end[1])
			return err_set(e, ERR_USAGE, "gate '%s': unexpected '%s' after the percentage", expr, end + 1);
		x->mode = GATE_RELATIVE;
		x->pct = v;
		return 0;
	}
	uint64_t mult = 1;
	if (*end) {
		size_t k = 0;
		while (k < sizeof units / sizeof *units && strcmp(end, units[k].name) != 0)
			k++;
		if (k == sizeof units / sizeof *units)
			return err_set(e, ERR_USAGE, "gate '%s': unknown unit '%s' (B, KB, MB, GB, KiB, MiB, GiB, or %%)",
				       expr, end);
		mult = units[k].mult;
	}
	double n = v * (double)mult;
	if (fabs(n) >= 9.2e18 || n != floor(n))
		return err_set(e, ERR_USAGE, "gate '%s': the limit %s is not a whole number of bytes in range", expr, s);
	x->mode = sign ? GATE_CHANGE : GATE_VALUE;
	x->n = (int64_t)n;
	if (!sign && v < 0)
		return err_set(e, ERR_USAGE, "gate '%s': a value limit cannot be negative", expr);
	return 0;
}

int report_gate_add(struct report_gate *g, const char *expr, struct err *e)
{
	struct gate_expr x = {0};
	const char *op = NULL;
	for (const char *p = expr; *p; p++)
		if (*p == '<' || *p == '>')
			op = p;
	if (!op)
		return err_set(e, ERR_USAGE, "gate '%s': no comparison: write FIGURE > LIMIT, e.g. "
			       "'variant.Windowed.heap_chunk_bytes > +1MiB'", expr);
	x.greater = *op == '>';
	x.or_equal = op[1] == '=';
	const char *lim = op + 1 + x.or_equal;
	x.text = trimmed(expr, strlen(expr));
	x.pattern = trimmed(expr, (size_t)(op - expr));
	x.limit = trimmed(op, strlen(op));
	char *l = trimmed(lim, strlen(lim));
	int rc = 0;
	if (!x.text || !x.pattern || !x.limit || !l)
		rc = err_set(e, ERR_NOMEM, "out of memory");
	else if (!*x.pattern)
		rc = err_set(e, ERR_USAGE, "gate '%s': no figure before the comparison", expr);
	else
		rc = parse_limit(&x, l, x.text, e);
	free(l);
	if (!rc && !gate_exprs_append(&g->exprs, x))
		rc = err_set(e, ERR_NOMEM, "out of memory");
	if (rc) {
		free(x.text);
		free(x.pattern);
		free(x.limit);
	}
	return rc;
}

int report_gate_load(struct report_gate *g, const char *file, struct err *e)
{
	FILE *f = fopen(file, "r");
	if (!f)
		return err_set(e, ERR_INPUT, "cannot read the thresholds file %s", file);
	char *line = NULL;
	size_t cap = 0;
	ssize_t n;
	int rc = 0, lineno = 0;
	while (!rc && (n = getline(&line, &cap, f)) >= 0) {
		lineno++;
		char *hash = strchr(line, '#');
		if (hash)
			*hash = 0;
		char *t = trimmed(line, strlen(line));
		if (!t)
			rc = err_set(e, ERR_NOMEM, "out of memory");
		else if (*t && (rc = report_gate_add(g, t, e)))
			err_wrap(e, rc, "%s:%d", file, lineno);
		free(t);
	}
	free(line);
	if (!rc && ferror(f))
		rc = err_set(e, ERR_IO, "reading %s failed", file);
	fclose(f);
	return rc;
}

/* '*' matches any run of characters (dots too); everything else itself. */
static bool glob(const char *p, const char *s)
{
	const char *star = NULL, *resume = NULL;
	while (*s) {
		if (*p == '*') {
			star = p++;
			resume = s;
		} else if (*p == *s) {
			p++;
			s++;
		} else if (star) {
			p = star + 1;
			s = ++resume;
		} else
			return false;
	}
	while (*p == '*')
		p++;
	return !*p;
}

static bool exceeds(const struct gate_expr *x, uint64_t old, uint64_t new_)
{
	if (x->mode == GATE_RATIO) {
		/* new OP factor * old, exactly as doubles allow; old 0: any new > 0 is an infinite ratio */
		double r = old ? (double)new_ / (double)old : new_ ? INFINITY : 1.0;
		return x->greater ? (x->or_equal ? r >= x->pct : r > x->pct) : (x->or_equal ? r <= x->pct : r < x->pct);
	}
	if (x->mode == GATE_RELATIVE) {
		double r = diff_relative(old, new_) * 100;
		return x->greater ? (x->or_equal ? r >= x->pct : r > x->pct) : (x->or_equal ? r <= x->pct : r < x->pct);
	}
	int64_t q = x->mode == GATE_VALUE ? (int64_t)new_ : diff_change(old, new_);
	return x->greater ? (x->or_equal ? q >= x->n : q > x->n) : (x->or_equal ? q <= x->n : q < x->n);
}

static int breach(struct report_diff *d, size_t k, const struct gate_expr *x, const char *fig, uint64_t old,
		  uint64_t new_, struct err *e)
{
	struct diff_breach b = {.expr = k, .figure = strdup(fig), .limit = strdup(x->limit), .old = old, .new_ = new_};
	if (!b.figure || !b.limit || !diff_breaches_append(&d->breaches, b)) {
		free(b.figure);
		free(b.limit);
		return err_set(e, ERR_NOMEM, "out of memory");
	}
	return 0;
}

int report_diff_gate(struct report_diff *d, const struct report_gate *g, struct err *e)
{
	char fig[1024];
	d->gated = g->exprs.len > 0;
	for (size_t k = 0; k < g->exprs.len; k++) {
		const struct gate_expr *x = &g->exprs.data[k];
		char *t = strdup(x->text);
		if (!t || !diff_strs_append(&d->exprs, t)) {
			free(t);
			return err_set(e, ERR_NOMEM, "out of memory");
		}
		size_t matched = 0;
		for (size_t i = 0; i < d->rows.len; i++) {
			const struct diff_row *r = &d->rows.data[d->order[i]];
			for (size_t m = 0; m < diff_kinds[r->kind].nmetrics; m++) {
				diff_figure_name(r, m, fig, sizeof fig);
				if (!glob(x->pattern, fig))
					continue;
				matched++;
				if (exceeds(x, r->v[0][m], r->v[1][m]) && breach(d, k, x, fig, r->v[0][m], r->v[1][m], e))
					return e->code;
			}
		}
		if (!matched)
			return err_set(e, ERR_INPUT, "gate '%s': no figure of either profile is named '%s' "
				       "('aggop-inspect diff --figures OLD NEW' lists them)", x->text, x->pattern);
	}
	return 0;
}

size_t report_diff_breaches(const struct report_diff *d)
{
	return d->breaches.len;
}

void report_diff_breach_line(const struct report_diff *d, size_t i, char *buf, size_t size)
{
	const struct diff_breach *b = &d->breaches.data[i];
	double r = diff_relative(b->old, b->new_) * 100;
	char rel[32];
	if (isfinite(r))
		snprintf(rel, sizeof rel, ", %+.1f%%", r);
	else
		snprintf(rel, sizeof rel, ", from 0");
	snprintf(buf, size, "%s: old %llu, new %llu (%+lld%s) breaches the limit %s", b->figure,
		 (unsigned long long)b->old, (unsigned long long)b->new_, (long long)diff_change(b->old, b->new_), rel,
		 b->limit);
}
