#ifndef TP_POLICY_IMPL_H
#define TP_POLICY_IMPL_H

/*
 * NAME
 *	tp_policy_impl 3h
 * SUMMARY
 *	inside the policy engine: rule index, string arena
 * SYNOPSIS
 *	#include "policy/tp_policy_impl.h"
 * DESCRIPTION
 *	Only the engine's own modules include this (and tests). A policy is an
 *	array of entries (a rule plus its lookup key), an open-addressing
 *	hash table from key to entry index, and an arena that owns every
 *	string. Lookups never allocate, so their cost does not depend on
 *	the number of rules: one probe per domain label, one per prefix
 *	length in use for client addresses.
 *
 *	Keys of domain rules are the canonical name, which is the tail of
 *	the rule's canonical selector, so they cost no extra memory. For
 *	each key type the policy notes which label counts occur, so that
 *	a lookup probes only the parents that some rule could match: most
 *	of a decision's cost is cache misses on a large table.
 */

#include <stdatomic.h>
#include <stdio.h>
#include <sys/types.h>
#include <time.h>

#include "policy/tp_ipaddr.h"
#include "policy/tp_policy.h"

/* Key types: one namespace per selector form. */
#define TP_KEY_SENDER		'S'	/* sender:DOMAIN */
#define TP_KEY_SENDER_SUB	's'	/* sender:.DOMAIN, key DOMAIN */
#define TP_KEY_NULL_SENDER	'N'	/* sender:<> */
#define TP_KEY_RCPT		'R'	/* rcpt:DOMAIN */
#define TP_KEY_RCPT_SUB		'r'	/* rcpt:.DOMAIN */
#define TP_KEY_RCPT_ADDR	'A'	/* rcpt:LOCAL@DOMAIN */
#define TP_KEY_NAME		'H'	/* client:HOST */
#define TP_KEY_NAME_SUB		'h'	/* client:.DOMAIN */
#define TP_KEY_IP		'I'	/* client:ADDRESS/PREFIX */
#define TP_KEY_DEFAULT		'D'	/* default */
#define TP_KEY_DEST		'T'	/* dest:DOMAIN */
#define TP_KEY_DEST_SUB		't'	/* dest:.DOMAIN, key DOMAIN */

#define TP_LINE_MAX		4096	/* bytes in one policy line */
#define TP_RULES_MAX		10000000	/* rules in a policy, all files */
#define TP_FILES_MAX		256	/* files in a policy, the main one too */
#define TP_INCLUDE_DEPTH	8	/* includes within includes */
#define TP_LABELS_CAP		31	/* label counts from here on share a bit */

struct tp_entry {
	struct tp_rule rule;		/* what the caller sees; first member */
	struct tp_outbound *ob;		/* dest: and starttls=off rules (arena) */
	uint8_t	ktype;			/* TP_KEY_* */
	uint8_t	plen;			/* TP_KEY_IP: prefix length */
	uint16_t klen;			/* name keys: length of key.name */
	uint16_t fidx;			/* index of rule.file in files[] */
	union {
		const char *name;	/* canonical name, inside selector */
		struct tp_ip ip;	/* TP_KEY_IP: masked address */
	}	key;
};

struct tp_arena_chunk;

/* What a file looked like when it was read (tp_policy_file_changed). */
struct tp_file_stamp {
	dev_t	dev;
	ino_t	ino;
	off_t	size;
	struct timespec mtime;
};

struct tp_policy {
	atomic_uint refs;		/* tp_policy_ref/unref */
	char   *file;			/* path given to tp_policy_load */
	struct tp_entry *entries;	/* in file order */
	size_t	nentries;
	size_t	cap;			/* allocated entries */
	uint64_t *slots;		/* hash << 32 | (index + 1); 0: empty */
	size_t	mask;			/* slots - 1, a power of two minus 1 */
	uint64_t v4_lens;		/* bit N: some client rule is /N */
	uint64_t v6_lens[3];		/* same, bits 0..128 */
	uint32_t labels[128];		/* [key type]: bit N: a key of N labels */
	size_t	default_index;		/* + 1; 0: no default rule */
	struct tp_arena_chunk *arena;	/* owns every string */
	const char **files;		/* every file read, main first (arena) */
	uint16_t *parents;		/* [i]: index of the file including files[i] */
	struct tp_file_stamp *stamps;	/* [i]: files[i] as it was read */
	size_t	nfiles;
	struct tp_shadowed *shadows;	/* included rules overridden */
	size_t	nshadows;
	size_t	shadow_cap;
};

extern struct tp_policy *tp_policy_new(const char *);
extern void tp_policy_free(struct tp_policy *);
extern char *tp_policy_strdup(struct tp_policy *, const char *, size_t);
extern void *tp_policy_alloc(struct tp_policy *, size_t);
extern int tp_policy_add(struct tp_policy *, const struct tp_entry *,
			 const struct tp_entry **);

/* One lookup in a batch (tp_policy_probe). */
struct tp_probe {
	const void *key;		/* name, or kbuf for addresses */
	uint16_t len;			/* bytes of key */
	uint8_t	type;			/* TP_KEY_* */
	uint8_t	kbuf[18];		/* address keys: family, length, bytes */
	uint32_t hash;			/* set by tp_policy_probe */
	uint32_t slot;			/* where the candidate was found */
	long	idx;			/* result: entry index, or -1 */
};

extern void tp_policy_probe(const struct tp_policy *, struct tp_probe *, size_t);
extern void tp_probe_ip(struct tp_probe *, const struct tp_ip *, unsigned);
extern int tp_policy_prefix_below(const struct tp_policy *, int, int);
extern int tp_policy_parse(struct tp_policy *, FILE *, struct tp_errors *);
extern void tp_policy_finish(struct tp_policy *);
extern int tp_policy_add_file(struct tp_policy *, const char *, size_t);

/*
 * How the parser follows "include" (include.c for tp_policy_load); NULL:
 * the text is one stream and an include line is an error.
 */
struct tp_includer {
	int	(*include) (const struct tp_includer *, size_t, unsigned long,
			    const char *, struct tp_errors *);
	void   *ctx;
};
extern int tp_policy_parse_file(struct tp_policy *, FILE *, size_t,
				const struct tp_includer *, struct tp_errors *);
extern unsigned tp_label_count(const char *, size_t);

/* tp_policy_has - is there any name key of this type (not TP_KEY_IP)? */

static inline int
tp_policy_has(const struct tp_policy *p, int type)
{
	return (p->labels[type & 0x7f] != 0);
}

/* tp_policy_may_have - could a key of this type with this many labels exist? */

static inline int
tp_policy_may_have(const struct tp_policy *p, int type, unsigned labels)
{
	return ((p->labels[type & 0x7f] >> (labels < TP_LABELS_CAP ? labels : TP_LABELS_CAP)) & 1);
}

#endif
