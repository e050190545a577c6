/*
 * NAME
 *	fuzz_conf 1
 * SUMMARY
 *	libFuzzer target: the key = value configuration reader
 * SYNOPSIS
 *	fuzz_conf [libFuzzer options] [CORPUS ...]
 * DESCRIPTION
 *	An input is a configuration file. tp_conf_load() (util/conf.c)
 *	takes a path, so the input goes into a memory file (memfd) that
 *	it opens as /proc/self/fd/N. The schema has every type, with some
 *	of the daemon's key names so that its sample file is a seed.
 *
 *	The load must fail exactly when it reported an error; every error
 *	must be "PATH:LINE: ..." or "PATH: ..." without a control
 *	character but tab; whatever was set, even by a file that failed, must be
 *	a value its type allows: a string trimmed and without a control
 *	character but tab, a boolean 0 or 1, a number within its maximum.
 *	tp_conf_free() must free every string (LeakSanitizer).
 */

#include "config.h"

#include <stddef.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "util/tp_conf.h"
#include "tests/fuzz/fuzz.h"

#define UNSET	7u			/* not a boolean: a key not set */

struct conf {
	char   *socket;
	char   *policy;
	char   *header_name;
	int	dry_run;
	int	header;
	unsigned timeout;
	unsigned queue_kb;
};

#define KEY(n, t, f, max) {n, t, offsetof(struct conf, f), max}

static const struct tp_conf_key keys[] = {
	KEY("socket", TP_CONF_STRING, socket, 0),
	KEY("policy", TP_CONF_STRING, policy, 0),
	KEY("header_name", TP_CONF_STRING, header_name, 0),
	KEY("dry_run", TP_CONF_BOOL, dry_run, 0),
	KEY("header", TP_CONF_BOOL, header, 0),
	KEY("timeout", TP_CONF_UINT, timeout, 3600),
	KEY("audit_queue_kb", TP_CONF_UINT, queue_kb, 1024 * 1024),
	{NULL, 0, 0, 0},
};

/* check_string - a value as the reader may leave it */

static void
check_string(const char *v)
{
	size_t	len;

	if (v == NULL)
		return;
	len = strlen(v);
	FUZZ_ASSERT(fuzz_no_control(v, len, "\t"), "control byte in \"%s\"", v);
	FUZZ_ASSERT(len == 0 || (v[0] != ' ' && v[0] != '\t' && v[len - 1] != ' '
				 && v[len - 1] != '\t'), "\"%s\" is not trimmed", v);
}

/* check_errors - "PATH:..." without control characters */

static void
check_errors(const struct tp_errors *errs, const char *path)
{
	size_t	plen = strlen(path);

	for (size_t i = 0; i < errs->kept; i++) {
		const char *m = errs->msgs[i];

		FUZZ_ASSERT(strncmp(m, path, plen) == 0 && m[plen] == ':', "%s", m);
		FUZZ_ASSERT(fuzz_no_control(m, strlen(m), "\t"), "control byte in \"%s\"", m);
	}
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static int fd = -1;
	static char path[64];
	struct conf c = {NULL, NULL, NULL, UNSET, UNSET, UNSET, UNSET};
	struct tp_errors errs;
	int	rc;

	if (fd < 0) {
		FUZZ_ASSERT((fd = memfd_create("fuzz.conf", 0)) >= 0, "memfd_create");
		snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);
	}
	FUZZ_ASSERT(ftruncate(fd, 0) == 0 && pwrite(fd, data, size, 0) == (ssize_t)size,
		    "cannot write the memory file");
	tp_errors_init(&errs);
	rc = tp_conf_load(path, keys, &c, &errs);
	FUZZ_ASSERT((rc < 0) == (errs.count > 0), "returned %d after %zu errors", rc, errs.count);
	check_errors(&errs, path);
	check_string(c.socket);
	check_string(c.policy);
	check_string(c.header_name);
	FUZZ_ASSERT(c.dry_run == (int)UNSET || c.dry_run == 0 || c.dry_run == 1, "dry_run %d", c.dry_run);
	FUZZ_ASSERT(c.header == (int)UNSET || c.header == 0 || c.header == 1, "header %d", c.header);
	FUZZ_ASSERT(c.timeout == UNSET || c.timeout <= 3600, "timeout %u", c.timeout);
	FUZZ_ASSERT(c.queue_kb == UNSET || c.queue_kb <= 1024 * 1024, "queue %u", c.queue_kb);
	tp_conf_free(keys, &c);
	FUZZ_ASSERT(c.socket == NULL && c.policy == NULL && c.header_name == NULL, "not freed");
	tp_errors_free(&errs);
	return (0);
}
