/*
 * NAME
 *	policy 3
 * SUMMARY
 *	policy object: reference counting, rule index, string arena
 * DESCRIPTION
 *	See tp_policy.h for the interface and tp_policy_impl.h for the
 *	layout. The index is built while the file is parsed, so that a
 *	selector defined twice is found at once, in file order.
 */

#include <stdlib.h>
#include <string.h>

#include "policy/tp_policy_impl.h"

#define ARENA_CHUNK	(1024 * 1024)

struct tp_arena_chunk {
	struct tp_arena_chunk *next;
	size_t	used;
	size_t	size;
	char	data[];
};

/* tp_policy_new - an empty policy with one reference */

struct tp_policy *
tp_policy_new(const char *file)
{
	struct tp_policy *p = calloc(1, sizeof(*p));

	if (p == NULL)
		return (NULL);
	atomic_init(&p->refs, 1);
	p->mask = 1023;
	if ((p->file = strdup(file)) == NULL
	    || (p->slots = calloc(p->mask + 1, sizeof(*p->slots))) == NULL
	    || tp_policy_add_file(p, p->file, 0) < 0) {
		tp_policy_free(p);
		return (NULL);
	}
	return (p);
}

/* tp_policy_free - free a policy regardless of its references */

void
tp_policy_free(struct tp_policy *p)
{
	struct tp_arena_chunk *c;
	struct tp_arena_chunk *next;

	if (p == NULL)
		return;
	for (c = p->arena; c != NULL; c = next) {
		next = c->next;
		free(c);
	}
	free(p->slots);
	free(p->entries);
	free(p->files);
	free(p->parents);
	free(p->stamps);
	free(p->shadows);
	free(p->file);
	free(p);
}

/* tp_policy_add_file - note a file read, included by file parent */

int
tp_policy_add_file(struct tp_policy *p, const char *name, size_t parent)
{
	const char **files = realloc(p->files, (p->nfiles + 1) * sizeof(*files));
	struct tp_file_stamp *stamps;
	uint16_t *parents;

	if (files == NULL)
		return (-1);
	p->files = files;
	if ((parents = realloc(p->parents, (p->nfiles + 1) * sizeof(*parents))) == NULL)
		return (-1);
	p->parents = parents;
	if ((stamps = realloc(p->stamps, (p->nfiles + 1) * sizeof(*stamps))) == NULL)
		return (-1);
	p->stamps = stamps;
	memset(&stamps[p->nfiles], 0, sizeof(*stamps));
	/* The main file's name is p->file; an included one's is in the arena. */
	if (p->nfiles > 0 && (name = tp_policy_strdup(p, name, strlen(name))) == NULL)
		return (-1);
	files[p->nfiles] = name;
	parents[p->nfiles] = (uint16_t)parent;
	p->nfiles++;
	return (0);
}

/* tp_policy_finish - point outbound parts at their rules, which have settled */

void
tp_policy_finish(struct tp_policy *p)
{
	for (size_t i = 0; i < p->nentries; i++)
		if (p->entries[i].ob != NULL)
			p->entries[i].ob->rule = &p->entries[i].rule;
}

/* tp_policy_ref - take a reference */

struct tp_policy *
tp_policy_ref(struct tp_policy *p)
{
	atomic_fetch_add_explicit(&p->refs, 1, memory_order_relaxed);
	return (p);
}

/* tp_policy_unref - drop a reference; the last one frees */

void
tp_policy_unref(struct tp_policy *p)
{
	if (p != NULL
	    && atomic_fetch_sub_explicit(&p->refs, 1, memory_order_acq_rel) == 1)
		tp_policy_free(p);
}

/* tp_policy_alloc - size bytes from the arena, aligned for pointers */

void   *
tp_policy_alloc(struct tp_policy *p, size_t size)
{
	struct tp_arena_chunk *c = p->arena;
	size_t	align = _Alignof(void *);
	size_t	at = c ? (c->used + align - 1) & ~(align - 1) : 0;

	if (c == NULL || at > c->size || c->size - at < size) {
		size_t	want = size > ARENA_CHUNK ? size : ARENA_CHUNK;

		if ((c = malloc(sizeof(*c) + want)) == NULL)
			return (NULL);
		c->next = p->arena;
		c->size = want;
		p->arena = c;
		at = 0;
	}
	c->used = at + size;
	return (c->data + at);
}

/* tp_policy_strdup - copy len bytes into the policy's arena, NUL-terminated */

char   *
tp_policy_strdup(struct tp_policy *p, const char *s, size_t len)
{
	struct tp_arena_chunk *c = p->arena;
	char   *out;

	if (c == NULL || c->size - c->used < len + 1) {
		size_t	size = len + 1 > ARENA_CHUNK ? len + 1 : ARENA_CHUNK;

		if ((c = malloc(sizeof(*c) + size)) == NULL)
			return (NULL);
		c->next = p->arena;
		c->used = 0;
		c->size = size;
		p->arena = c;
	}
	out = c->data + c->used;
	memcpy(out, s, len);
	out[len] = 0;
	c->used += len + 1;
	return (out);
}

/* mix - fold a 128-bit product: fast, well-spread (wyhash's core step) */

static inline uint64_t
mix(uint64_t a, uint64_t b)
{
	__uint128_t r = (__uint128_t)a * b;

	return ((uint64_t)r ^ (uint64_t)(r >> 64));
}

/*
 * key_hash - 32-bit hash of a typed key, eight bytes at a time. Lookups
 * hash a key per domain label, so this is on every decision's path.
 */

static uint32_t
key_hash(int type, const void *key, size_t len)
{
	const unsigned char *s = key;
	uint64_t h = 0x9e3779b97f4a7c15ULL ^ ((uint64_t)type << 56) ^ len;
	uint64_t w;

	for (; len >= 8; s += 8, len -= 8) {
		memcpy(&w, s, 8);
		h = mix(h ^ w, 0xa0761d6478bd642fULL);
	}
	w = 0;
	memcpy(&w, s, len);
	h = mix(h ^ w, 0xe7037ed1a0b428dbULL);
	return ((uint32_t)(h ^ (h >> 32)));
}

/* ip_key - the bytes that identify an address prefix */

static size_t
ip_key(const struct tp_ip *ip, unsigned plen, unsigned char *buf)
{
	size_t	size = ip->family == 4 ? 4 : 16;

	buf[0] = ip->family;
	buf[1] = (unsigned char)plen;
	memcpy(buf + 2, ip->bytes, size);
	return (size + 2);
}

/* entry_hash - hash of an entry's key */

static uint32_t
entry_hash(const struct tp_entry *e)
{
	unsigned char buf[18];

	if (e->ktype == TP_KEY_IP)
		return (key_hash(TP_KEY_IP, buf, ip_key(&e->key.ip, e->plen, buf)));
	return (key_hash(e->ktype, e->key.name, e->klen));
}

/* entry_matches - does this entry have this key? */

static int
entry_matches(const struct tp_entry *e, int type, const void *key, size_t len)
{
	unsigned char buf[18];

	if (e->ktype != type)
		return (0);
	if (type == TP_KEY_IP)
		return (ip_key(&e->key.ip, e->plen, buf) == len
			&& memcmp(buf, key, len) == 0);
	return (e->klen == len && memcmp(e->key.name, key, len) == 0);
}

/* find_slot - index of the entry with this key, or -1 */

static long
find_slot(const struct tp_policy *p, int type, const void *key, size_t len)
{
	uint32_t h = key_hash(type, key, len);

	for (size_t i = h & p->mask;; i = (i + 1) & p->mask) {
		uint64_t slot = p->slots[i];

		if (slot == 0)
			return (-1);
		if ((uint32_t)(slot >> 32) == h) {
			size_t	idx = (size_t)(uint32_t)slot - 1;

			if (entry_matches(&p->entries[idx], type, key, len))
				return ((long)idx);
		}
	}
}

/* place - put an index into the table (it is known to be absent) */

static void
place(uint64_t *slots, size_t mask, uint32_t h, size_t idx)
{
	size_t	i;

	for (i = h & mask; slots[i] != 0; i = (i + 1) & mask)
		 /* void */ ;
	slots[i] = ((uint64_t)h << 32) | (uint64_t)(idx + 1);
}

/* grow_table - double the table so that it stays at most half full */

static int
grow_table(struct tp_policy *p)
{
	size_t	mask = p->mask * 2 + 1;
	uint64_t *slots = calloc(mask + 1, sizeof(*slots));

	if (slots == NULL)
		return (-1);
	for (size_t i = 0; i <= p->mask; i++)
		if (p->slots[i] != 0)
			place(slots, mask, (uint32_t)(p->slots[i] >> 32),
			      (size_t)(uint32_t)p->slots[i] - 1);
	free(p->slots);
	p->slots = slots;
	p->mask = mask;
	return (0);
}

/* tp_label_count - number of labels of a canonical name */

unsigned
tp_label_count(const char *name, size_t len)
{
	const char *end = name + len;
	unsigned n = 1;

	while ((name = memchr(name, '.', (size_t)(end - name))) != NULL) {
		name++;
		n++;
	}
	return (n);
}

/* note_labels - remember that rules of this type have this many labels */

static void
note_labels(struct tp_policy *p, const struct tp_entry *e)
{
	const char *name = e->key.name;
	size_t	len = e->klen;

	if (e->ktype == TP_KEY_RCPT_ADDR) {
		const char *at = memchr(name, '@', len);

		len -= (size_t)(at + 1 - name);
		name = at + 1;
	}
	unsigned n = tp_label_count(name, len);

	p->labels[e->ktype & 0x7f] |= 1u << (n < TP_LABELS_CAP ? n : TP_LABELS_CAP);
}

/* note_prefix - remember that rules of this prefix length exist */

static void
note_prefix(struct tp_policy *p, const struct tp_entry *e)
{
	if (e->key.ip.family == 4)
		p->v4_lens |= 1ULL << e->plen;
	else
		p->v6_lens[e->plen / 64] |= 1ULL << (e->plen % 64);
}

/* tp_policy_add - add a rule; 1 and *dup if its selector exists, -1 ENOMEM */

int
tp_policy_add(struct tp_policy *p, const struct tp_entry *e,
	      const struct tp_entry **dup)
{
	unsigned char buf[18];
	long	found;

	if (e->ktype == TP_KEY_DEFAULT) {
		if (p->default_index != 0) {
			*dup = &p->entries[p->default_index - 1];
			return (1);
		}
	} else {
		found = e->ktype == TP_KEY_IP ?
		    find_slot(p, TP_KEY_IP, buf, ip_key(&e->key.ip, e->plen, buf)) :
		    find_slot(p, e->ktype, e->key.name, e->klen);
		if (found >= 0) {
			*dup = &p->entries[found];
			return (1);
		}
	}
	if (p->nentries == p->cap) {
		size_t	cap = p->cap ? p->cap * 2 : 64;
		struct tp_entry *grown = realloc(p->entries, cap * sizeof(*grown));

		if (grown == NULL)
			return (-1);
		p->entries = grown;
		p->cap = cap;
	}
	if (e->ktype != TP_KEY_DEFAULT && 2 * (p->nentries + 1) > p->mask + 1
	    && grow_table(p) < 0)
		return (-1);
	p->entries[p->nentries] = *e;
	if (e->ktype == TP_KEY_DEFAULT) {
		p->default_index = p->nentries + 1;
	} else {
		place(p->slots, p->mask, entry_hash(e), p->nentries);
		if (e->ktype == TP_KEY_IP)
			note_prefix(p, e);
		else if (e->ktype != TP_KEY_NULL_SENDER)
			note_labels(p, e);
	}
	p->nentries++;
	return (0);
}

/* tp_policy_prefix_below - longest prefix length in use < limit, or -1 */

int
tp_policy_prefix_below(const struct tp_policy *p, int family, int limit)
{
	const uint64_t *words = family == 4 ? &p->v4_lens : p->v6_lens;

	for (int w = (limit - 1) / 64; w >= 0 && limit > 0; w--) {
		uint64_t bits = words[w];
		int	top = limit - 64 * w;

		if (top < 64)
			bits &= (1ULL << top) - 1;
		if (bits != 0)
			return (64 * w + 63 - __builtin_clzll(bits));
		limit = 64 * w;
	}
	return (-1);
}

/* tp_probe_ip - set up a probe for an address prefix */

void
tp_probe_ip(struct tp_probe *pr, const struct tp_ip *ip, unsigned plen)
{
	struct tp_ip masked = *ip;

	tp_ip_mask(&masked, plen);
	pr->type = TP_KEY_IP;
	pr->len = (uint16_t)ip_key(&masked, plen, pr->kbuf);
	pr->key = pr->kbuf;
}

/* first_candidate - from slot i on, the first slot of this hash, or -1 */

static long
first_candidate(const struct tp_policy *p, size_t i, uint32_t h, size_t *at)
{
	for (;; i = (i + 1) & p->mask) {
		uint64_t slot = p->slots[i];

		if (slot == 0)
			return (-1);
		if ((uint32_t)(slot >> 32) == h) {
			*at = i;
			return ((long)(uint32_t)slot - 1);
		}
	}
}

/*
 * tp_policy_probe - resolve a batch of lookups; probes[i].idx is the
 * matching entry's index or -1. A decision needs up to a dozen lookups
 * in a table far larger than the cache: done one after another, each
 * waits for its own cache misses. Here each phase first touches what
 * the next phase needs for every probe, so that the misses overlap.
 */

void
tp_policy_probe(const struct tp_policy *p, struct tp_probe *pr, size_t n)
{
	size_t	at = 0;

	for (size_t i = 0; i < n; i++) {
		pr[i].hash = key_hash(pr[i].type, pr[i].key, pr[i].len);
		__builtin_prefetch(&p->slots[pr[i].hash & p->mask]);
	}
	for (size_t i = 0; i < n; i++) {
		pr[i].idx = first_candidate(p, pr[i].hash & p->mask, pr[i].hash, &at);
		pr[i].slot = (uint32_t)at;
		if (pr[i].idx >= 0)
			__builtin_prefetch(&p->entries[pr[i].idx]);
	}
	for (size_t i = 0; i < n; i++)
		if (pr[i].idx >= 0 && pr[i].type != TP_KEY_IP)
			__builtin_prefetch(p->entries[pr[i].idx].key.name);
	for (size_t i = 0; i < n; i++) {
		/* A hash match is only a candidate: the key decides. */
		while (pr[i].idx >= 0
		       && !entry_matches(&p->entries[pr[i].idx], pr[i].type, pr[i].key, pr[i].len)) {
			pr[i].idx = first_candidate(p, (pr[i].slot + 1) & p->mask, pr[i].hash, &at);
			pr[i].slot = (uint32_t)at;
		}
	}
}

/* tp_policy_file - the file a policy was loaded from */

const char *
tp_policy_file(const struct tp_policy *p)
{
	return (p->file);
}

/* tp_policy_summarize - count rules by kind */

void
tp_policy_summarize(const struct tp_policy *p, struct tp_policy_summary *s)
{
	memset(s, 0, sizeof(*s));
	s->rules = p->nentries;
	for (size_t i = 0; i < p->nentries; i++)
		s->by_kind[p->entries[i].rule.kind]++;
	s->has_default = p->default_index != 0;
	s->default_level = s->has_default ?
	    (enum tp_level)p->entries[p->default_index - 1].rule.level
	    : TP_LEVEL_SKIP;
}
