/*
 * NAME
 *	report 3
 * SUMMARY
 *	tlspolicyctl report: audit log records in, per-name statistics out
 * SYNOPSIS
 *	#include "ctl/tp_report.h"
 *
 *	See tp_report.h for the interface, report_impl.h for the modules
 *	behind it.
 * DESCRIPTION
 *	This module holds the report and counts records into it:
 *	tp_report_new(), tp_report_free() and the result accessors, and
 *	tp_report_aggregate() and tp_report_skipped() for the reader
 *	(report_read.c), which calls them; this module calls nothing of
 *	the reader's. The reader
 *	counts whole batches of parsed lines (report_parse.c) in the
 *	order it read them, so the result, the first skipped line and
 *	the examples are the same with any number of threads.
 *
 *	Three hash tables (open addressing, FNV-1a) map a sender domain,
 *	recipient domain or client address to its counts; a record costs
 *	2 + recipients lookups. A serial number per record makes a
 *	message count once per name, however many of its recipients
 *	share a domain.
 *
 *	A daily series is a ring of TP_REPORT_DAYS slots per name, a day
 *	in slot day mod TP_REPORT_DAYS, tagged with its day: a newer day
 *	takes its slot over, an older one is not counted in it. Whatever
 *	order the files come in, the slots of the newest TP_REPORT_DAYS
 *	days before the report's last record then hold those days' counts.
 * DIAGNOSTICS
 *	Malformed lines are counted, with the first one's FILE:LINE: why.
 *	Memory exhaustion makes tp_report_read() fail with "out of
 *	memory".
 * MEMORY
 *	Entries and examples live until tp_report_free(), which frees
 *	everything the report holds.
 */

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ctl/report_impl.h"

/* ---- hash tables -------------------------------------------------------- */

/* hash - FNV-1a */

static uint64_t
hash(const char *s, size_t len)
{
	uint64_t h = 14695981039346656037ULL;

	for (size_t i = 0; i < len; i++)
		h = (h ^ (unsigned char)s[i]) * 1099511628211ULL;
	return (h);
}

/* table_grow - twice the slots, every entry rehashed */

static int
table_grow(struct table *t)
{
	size_t	size = t->size ? t->size * 2 : 64;
	struct entry **slots = calloc(size, sizeof(*slots));

	if (slots == NULL)
		return (-1);
	for (size_t i = 0; i < t->size; i++) {
		size_t	j;

		if (t->slots[i] == NULL)
			continue;
		for (j = t->slots[i]->hash & (size - 1); slots[j] != NULL; j = (j + 1) & (size - 1))
			;
		slots[j] = t->slots[i];
	}
	free(t->slots);
	t->slots = slots;
	t->size = size;
	return (0);
}

/* table_get - the entry of key, added if new; NULL: out of memory */

static struct entry *
table_get(struct table *t, const char *key)
{
	size_t	len = strlen(key), i;
	uint64_t h = hash(key, len);
	struct entry *e;

	if (t->size > 0) {
		for (i = h & (t->size - 1); (e = t->slots[i]) != NULL; i = (i + 1) & (t->size - 1))
			if (e->hash == h && strcmp(e->key, key) == 0)
				return (e);
	}
	if ((t->count + 1) * 2 > t->size && table_grow(t) < 0)
		return (NULL);
	if ((e = calloc(1, sizeof(*e) + len + 1)) == NULL)
		return (NULL);
	memcpy(e->key, key, len + 1);
	e->s.key = e->key;
	e->s.min_bits = -1;
	e->hash = h;
	for (i = h & (t->size - 1); t->slots[i] != NULL; i = (i + 1) & (t->size - 1))
		;
	t->slots[i] = e;
	t->count++;
	return (e);
}

/* table_find - the entry of key, or NULL */

static const struct entry *
table_find(const struct table *t, const char *key)
{
	uint64_t h = hash(key, strlen(key));
	const struct entry *e;

	if (t->size == 0)
		return (NULL);
	for (size_t i = h & (t->size - 1); (e = t->slots[i]) != NULL; i = (i + 1) & (t->size - 1))
		if (e->hash == h && strcmp(e->key, key) == 0)
			return (e);
	return (NULL);
}

/* table_free - every entry, its examples, the slots */

static void
table_free(struct table *t)
{
	for (size_t i = 0; i < t->size; i++) {
		struct entry *e = t->slots[i];

		if (e == NULL)
			continue;
		for (size_t j = 0; j < e->s.nexamples; j++)
			free(e->ex[j]);
		free(e->name);
		free(e);
	}
	free(t->slots);
}

/* ---- aggregation -------------------------------------------------------- */

/* version_index - the counter of a TLS version name */

static size_t
version_index(struct tp_report *rep, const char *version)
{
	const char *name = version ? version : "unknown";
	size_t	i;

	for (i = 0; i < rep->nversions; i++)
		if (strcmp(rep->versions[i], name) == 0)
			return (i);
	if (i == TP_REPORT_VERSIONS || strlen(name) > VERSION_NAME_MAX)
		return (TP_REPORT_VERSIONS);
	strcpy(rep->versions[i], name);
	return (rep->nversions++);
}

/* bits_index - the counter of a cipher strength (-1: unknown) */

static size_t
bits_index(struct tp_report *rep, int bits)
{
	size_t	i;

	for (i = 0; i < rep->nbits; i++)
		if (rep->bits[i] == bits)
			return (i);
	if (i == TP_REPORT_BITS)
		return (TP_REPORT_BITS);
	rep->bits[i] = bits;
	return (rep->nbits++);
}

/* day_of - the UTC day of a time, in days since 1970-01-01 */

static int64_t
day_of(long long ms)
{
	const long long day = 86400000LL;

	return (ms >= 0 ? ms / day : -((-(ms + 1)) / day) - 1);
}

/* day_slot - the ring slot of a day */

static size_t
day_slot(int64_t day)
{
	return ((size_t)(((day % TP_REPORT_DAYS) + TP_REPORT_DAYS) % TP_REPORT_DAYS));
}

/* count_day - a message in a daily series, unless older than its slot */

static void
count_day(struct day_slot *days, int64_t day, bool tls)
{
	struct day_slot *d = &days[day_slot(day)];

	if (d->messages == 0 || d->day < day) {
		d->day = day;
		d->messages = 0;
		d->tls = 0;
	} else if (d->day > day) {
		return;
	}
	/* Saturate: a wrong count on a hostile log, not a wrong share. */
	if (d->messages < UINT32_MAX) {
		d->messages++;
		d->tls += tls;
	}
}

/* count_message - a message for one name, once per record */

static void
count_message(struct tp_report *rep, struct entry *e, const struct fact *f,
	      size_t version, size_t bits)
{
	if (e->seen == rep->records)
		return;
	e->seen = rep->records;
	e->s.messages++;
	count_day(e->days, day_of(f->ms), f->how != TP_REPORT_HOW_NONE);
	e->s.how[f->how]++;
	if (f->how == TP_REPORT_HOW_NONE)
		return;
	e->s.tls++;
	e->s.versions[version]++;
	e->s.bits[bits]++;
	e->s.verify[f->verify]++;
	if (f->bits >= 0 && (e->s.min_bits < 0 || f->bits < e->s.min_bits))
		e->s.min_bits = f->bits;
}

/* copy_to - s into the block at *cursor, advancing; NULL stays NULL */

static const char *
copy_to(char **cursor, const char *s)
{
	char   *out = *cursor;
	size_t	len;

	if (s == NULL)
		return (NULL);
	len = strlen(s) + 1;
	memcpy(out, s, len);
	*cursor += len;
	return (out);
}

/* example_new - one example in one block of memory */

static struct tp_report_example *
example_new(const struct fact *f, const struct rfact *r)
{
	const char *strs[] = {f->time, f->session, f->queue_id, f->client_addr,
	f->client_name, f->sender, r->addr, r->reason};
	struct tp_report_example *x;
	size_t	size = sizeof(*x);
	char   *cursor;

	for (size_t i = 0; i < sizeof(strs) / sizeof(strs[0]); i++)
		size += strs[i] ? strlen(strs[i]) + 1 : 0;
	if ((x = malloc(size)) == NULL)
		return (NULL);
	cursor = (char *)(x + 1);
	x->ms = f->ms;
	x->time = copy_to(&cursor, f->time);
	x->session = copy_to(&cursor, f->session);
	x->queue_id = copy_to(&cursor, f->queue_id);
	x->client_addr = copy_to(&cursor, f->client_addr);
	x->client_name = copy_to(&cursor, f->client_name);
	x->sender = copy_to(&cursor, f->sender);
	x->rcpt = copy_to(&cursor, r->addr);
	x->reason = copy_to(&cursor, r->reason);
	return (x);
}

/* add_example - keep the newest examples, newest first */

static int
add_example(struct entry *e, const struct fact *f, const struct rfact *r)
{
	size_t	n = e->s.nexamples, i;
	struct tp_report_example *x;

	if (n == TP_REPORT_EXAMPLES && f->ms <= e->ex[n - 1]->ms)
		return (0);
	if ((x = example_new(f, r)) == NULL)
		return (-1);
	if (n == TP_REPORT_EXAMPLES)
		free(e->ex[--n]);
	for (i = n; i > 0 && e->ex[i - 1]->ms < f->ms; i--)
		e->ex[i] = e->ex[i - 1];
	e->ex[i] = x;
	e->s.nexamples = n + 1;
	for (i = 0; i < e->s.nexamples; i++)
		e->s.examples[i] = e->ex[i];
	return (0);
}

/* count_decision - a recipient decision for one name */

static int
count_decision(struct tp_report *rep, struct entry *e, const struct fact *f,
	       const struct rfact *r)
{
	if (r->soft && e->soft_seen != rep->records) {
		e->soft_seen = rep->records;
		e->s.soft++;
	}
	if (!r->would || e->reject_seen == rep->records)
		return (0);
	e->reject_seen = rep->records;
	e->s.would_reject++;
	return (add_example(e, f, r));
}

/* in_domain - name is the report's domain or a subdomain of it */

static bool
in_domain(const struct tp_report *rep, const char *name)
{
	size_t	len;

	if (name == NULL)
		return (false);
	len = strlen(name);
	if (len == rep->domain_len)
		return (memcmp(name, rep->domain, len) == 0);
	return (len > rep->domain_len && name[len - rep->domain_len - 1] == '.'
		&& memcmp(name + len - rep->domain_len, rep->domain, rep->domain_len) == 0);
}

/* wanted - the record passes the since and domain filters */

static bool
wanted(const struct tp_report *rep, const struct fact *f, const struct rfact *r)
{
	if (rep->opts.has_since && f->ms < rep->opts.since_ms)
		return (false);
	if (rep->domain == NULL || in_domain(rep, f->sender_domain))
		return (true);
	for (size_t i = 0; i < f->nrcpts; i++)
		if (in_domain(rep, r[i].domain))
			return (true);
	return (false);
}

/* count_name - a client's verified name, the first one seen */

static int
count_name(struct entry *client, const char *name)
{
	if (client->name != NULL || name == NULL)
		return (0);
	if ((client->name = strdup(name)) == NULL)
		return (-1);
	client->s.name = client->name;
	return (0);
}

/* tp_report_aggregate - count one record: 1, 0 left out, -2 out of memory */

int
tp_report_aggregate(struct tp_report *rep, const struct fact *f,
		    const struct rfact *r)
{
	const char *skey;
	struct entry *sender, *client, *rd;
	size_t	version = 0, bits = 0;
	int	rc = 0;

	/* A session without a message (outcome "no-message") is no message. */
	if (f->sender == NULL) {
		rep->no_message++;
		return (0);
	}
	if (!wanted(rep, f, r)) {
		rep->left_out++;
		return (0);
	}
	rep->records++;
	skey = f->sender_domain ? f->sender_domain : strcmp(f->sender, "<>") == 0 ? "<>" : "";
	if (!rep->has_period || f->ms < rep->first_ms)
		rep->first_ms = f->ms;
	if (!rep->has_period || f->ms > rep->last_ms)
		rep->last_ms = f->ms;
	rep->has_period = true;
	count_day(rep->days, day_of(f->ms), f->how != TP_REPORT_HOW_NONE);
	if (f->how != TP_REPORT_HOW_NONE) {
		version = version_index(rep, f->version);
		bits = bits_index(rep, f->bits);
	}
	if ((sender = table_get(&rep->tables[TP_REPORT_SENDER], skey)) == NULL
	    || (client = table_get(&rep->tables[TP_REPORT_CLIENT],
				   f->client_addr ? f->client_addr : "")) == NULL)
		return (-2);
	count_message(rep, sender, f, version, bits);
	count_message(rep, client, f, version, bits);
	rc |= count_name(client, f->client_name);
	for (size_t i = 0; i < f->nrcpts; i++) {
		if ((rd = table_get(&rep->tables[TP_REPORT_RCPT],
				    r[i].domain ? r[i].domain : "")) == NULL)
			return (-2);
		count_message(rep, rd, f, version, bits);
		rc |= count_decision(rep, sender, f, &r[i]);
		rc |= count_decision(rep, client, f, &r[i]);
		rc |= count_decision(rep, rd, f, &r[i]);
	}
	return (rc < 0 ? -2 : 1);
}

/* tp_report_skipped - count a malformed line, keep the first one's place */

void
tp_report_skipped(struct tp_report *rep, const char *file,
		  unsigned long lineno, const char *why)
{
	size_t	size;

	if (rep->skipped++ > 0)
		return;
	size = strlen(file) + strlen(why) + 32;
	if ((rep->first_skipped = malloc(size)) != NULL)
		snprintf(rep->first_skipped, size, "%s:%lu: %s", file, lineno, why);
}

/* ---- the report --------------------------------------------------------- */

/* tp_report_new - an empty report */

struct tp_report *
tp_report_new(const struct tp_report_opts *opts)
{
	struct tp_report *rep = calloc(1, sizeof(*rep));

	if (rep == NULL)
		return (NULL);
	rep->opts = *opts;
	if (rep->opts.threads > TP_REPORT_THREADS_MAX)
		rep->opts.threads = TP_REPORT_THREADS_MAX;
	if (opts->domain != NULL && (rep->domain = strdup(opts->domain)) == NULL) {
		tp_report_free(rep);
		return (NULL);
	}
	rep->opts.domain = rep->domain;
	rep->domain_len = rep->domain ? strlen(rep->domain) : 0;
	return (rep);
}

/* tp_report_free - everything */

void
tp_report_free(struct tp_report *rep)
{
	if (rep == NULL)
		return;
	for (int g = 0; g < TP_REPORT_NGROUPS; g++)
		table_free(&rep->tables[g]);
	for (size_t i = 0; i < rep->nfiles; i++)
		free(rep->files[i]);
	free(rep->files);
	free(rep->first_skipped);
	free(rep->domain);
	free(rep);
}

/* tp_report_attach - the other logs' sections, printed with the report */

void
tp_report_attach(struct tp_report *rep, const struct tp_maillog *ml,
		 const struct tp_tlsrpt *tr)
{
	rep->maillog = ml;
	rep->tlsrpt = tr;
}

/* ---- results ------------------------------------------------------------ */

/* by_messages - most messages first, then by name */

static int
by_messages(const void *a, const void *b)
{
	const struct entry *x = *(const struct entry *const *)a;
	const struct entry *y = *(const struct entry *const *)b;

	if (x->s.messages != y->s.messages)
		return (x->s.messages > y->s.messages ? -1 : 1);
	return (strcmp(x->key, y->key));
}

/* tp_report_sorted - a group's entries, most messages first (caller frees) */

const struct entry **
tp_report_sorted(const struct tp_report *rep, int g, size_t *n)
{
	const struct table *t = &rep->tables[g];
	const struct entry **v = malloc((t->count + 1) * sizeof(*v));

	*n = 0;
	if (v == NULL)
		return (NULL);
	for (size_t i = 0; i < t->size; i++)
		if (t->slots[i] != NULL)
			v[(*n)++] = t->slots[i];
	qsort(v, *n, sizeof(*v), by_messages);
	return (v);
}

/* tp_report_unnamed - how the page and the text show an empty key */

const char *
tp_report_unnamed(int g)
{
	return (g == TP_REPORT_CLIENT ? "(unknown)" : "(none)");
}

/* tp_report_totals - what was read, counted, left out and skipped */

void
tp_report_totals(const struct tp_report *rep, struct tp_report_totals *t)
{
	memset(t, 0, sizeof(*t));
	t->records = rep->records;
	t->left_out = rep->left_out;
	t->skipped = rep->skipped;
	t->first_skipped = rep->first_skipped;
	t->has_period = rep->has_period;
	t->first_ms = rep->first_ms;
	t->last_ms = rep->last_ms;
	for (int g = 0; g < TP_REPORT_NGROUPS; g++)
		t->names[g] = rep->tables[g].count;
}

/* tp_report_find - the counts of one name */

const struct tp_report_stats *
tp_report_find(const struct tp_report *rep, enum tp_report_group g,
	       const char *key)
{
	const struct entry *e = table_find(&rep->tables[g], key);

	return (e ? &e->s : NULL);
}

/* tp_report_version_count - TLS messages of a name with this version */

unsigned long
tp_report_version_count(const struct tp_report *rep,
			const struct tp_report_stats *s, const char *version)
{
	for (size_t i = 0; i < rep->nversions; i++)
		if (strcmp(rep->versions[i], version) == 0)
			return (s->versions[i]);
	return (strcmp(version, "other") == 0 ? s->versions[TP_REPORT_VERSIONS] : 0);
}

/* tp_report_bits_count - TLS messages of a name with this strength */

unsigned long
tp_report_bits_count(const struct tp_report *rep,
		     const struct tp_report_stats *s, int bits)
{
	for (size_t i = 0; i < rep->nbits; i++)
		if (rep->bits[i] == bits)
			return (s->bits[i]);
	return (0);
}

/* tp_report_days - the daily series of a name (NULL: every record) */

size_t
tp_report_days(const struct tp_report *rep, const struct tp_report_stats *s,
	       struct tp_report_day *out)
{
	/* s is the first member of its entry. */
	const struct day_slot *days = s ? ((const struct entry *)s)->days : rep->days;
	int64_t	last, first;
	size_t	n = 0;

	if (!rep->has_period)
		return (0);
	last = day_of(rep->last_ms);
	first = day_of(rep->first_ms);
	if (first < last - TP_REPORT_DAYS + 1)
		first = last - TP_REPORT_DAYS + 1;
	for (int64_t day = first; day <= last; day++, n++) {
		const struct day_slot *d = &days[day_slot(day)];
		bool	ours = d->messages > 0 && d->day == day;

		out[n].day = day;
		out[n].messages = ours ? d->messages : 0;
		out[n].tls = ours ? d->tls : 0;
	}
	return (n);
}
