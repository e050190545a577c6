/*
 * NAME
 *	minimal-milter 1
 * SUMMARY
 *	the floor for a per-recipient milter that adds one header
 * SYNOPSIS
 *	minimal-milter -p SOCKET [-N] [-H] [-D]
 * DESCRIPTION
 *	A benchmark baseline for tlspolicy-milter (bench/run-postfix-bench.sh).
 *	It negotiates away every stage but RCPT TO and end of message
 *	(SMFIP_NOCONNECT, NOHELO, NOMAIL, NOHDRS, NOEOH, NOBODY, NODATA,
 *	NOUNKNOWN), so the MTA waits for exactly three replies per
 *	one-recipient connection: negotiate, RCPT and end of message. At
 *	RCPT it continues; at end of message it adds one header
 *	("X-Bench-Milter: minimal") and continues. It keeps no per-connection
 *	state and never logs.
 *
 *	Like tlspolicy-milter (milter/main.c, set_nodelay), it sets
 *	TCP_NODELAY on libmilter's listening socket after smfi_opensocket(),
 *	so that the end-of-message reply that follows the header
 *	modification is not held back by Nagle's algorithm over inet:.
 *
 *	A unix: socket is created mode 0666 so that Postfix's smtpd (user
 *	postfix) can connect whatever user this runs as.
 * OPTIONS
 *	-p SOCKET  libmilter socket: inet:PORT@HOST or unix:/PATH
 *	-N         do NOT set TCP_NODELAY (to show the Nagle stall)
 *	-H         also receive every header, without replying to them
 *		   (SMFIP_NR_HDR, like tlspolicy-milter, which must see
 *		   forged copies of its header): a diagnostic variant that
 *		   isolates the cost of the header stream
 *	-D         also reply at DATA (do not negotiate SMFIP_NODATA): four
 *		   replies a message instead of three. Over inet: this avoids
 *		   the stall on Postfix's side described in
 *		   bench/run-postfix-bench.sh (a variant to measure that fix)
 * BUILD
 *	cc -O2 -o minimal-milter minimal-milter.c -lmilter -pthread
 */

#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <libmilter/mfapi.h>

static int want_headers;		/* -H */
static int want_data;			/* -D */

static sfsistat
mm_negotiate(SMFICTX *ctx, unsigned long f0, unsigned long f1,
	     unsigned long f2, unsigned long f3, unsigned long *pf0,
	     unsigned long *pf1, unsigned long *pf2, unsigned long *pf3)
{
	unsigned long proto = SMFIP_NOCONNECT | SMFIP_NOHELO | SMFIP_NOMAIL
	| SMFIP_NOHDRS | SMFIP_NOEOH | SMFIP_NOBODY | SMFIP_NODATA | SMFIP_NOUNKNOWN;

	(void)ctx, (void)f2, (void)f3;
	if (want_headers)
		proto = (proto & ~SMFIP_NOHDRS) | SMFIP_NR_HDR;
	if (want_data)
		proto &= ~SMFIP_NODATA;
	if ((f1 & proto) != proto)	/* the MTA cannot skip all that */
		return (SMFIS_REJECT);
	*pf0 = f0 & SMFIF_ADDHDRS;
	*pf1 = proto;
	*pf2 = *pf3 = 0;
	return (SMFIS_CONTINUE);
}

static sfsistat
mm_envrcpt(SMFICTX *ctx, char **argv)
{
	(void)ctx, (void)argv;
	return (SMFIS_CONTINUE);
}

static sfsistat
mm_header(SMFICTX *ctx, char *name, char *value)
{
	(void)ctx, (void)name, (void)value;
	return (SMFIS_NOREPLY);
}

static sfsistat
mm_data(SMFICTX *ctx)
{
	(void)ctx;
	return (SMFIS_CONTINUE);
}

static sfsistat
mm_eom(SMFICTX *ctx)
{
	static char name[] = "X-Bench-Milter", value[] = "minimal";

	if (smfi_addheader(ctx, name, value) != MI_SUCCESS)
		return (SMFIS_TEMPFAIL);
	return (SMFIS_CONTINUE);
}

static char filter_name[] = "minimal-milter";

static struct smfiDesc desc = {
	filter_name,
	SMFI_VERSION,
	SMFIF_ADDHDRS,
	NULL,				/* connect */
	NULL,				/* helo */
	NULL,				/* envfrom */
	mm_envrcpt,			/* envrcpt */
	NULL,				/* header (set by -H) */
	NULL,				/* eoh */
	NULL,				/* body */
	mm_eom,				/* eom */
	NULL,				/* abort */
	NULL,				/* close */
	NULL,				/* unknown */
	NULL,				/* data */
	mm_negotiate,			/* negotiate */
};

/* set_nodelay - as milter/main.c: TCP_NODELAY on libmilter's listening socket */

static void
set_nodelay(void)
{
	int	maxfd = (int)sysconf(_SC_OPEN_MAX);

	/* Accepted sockets inherit the option; libmilter hides the fd. */
	for (int fd = 0; fd < maxfd && fd < 4096; fd++) {
		int	listening = 0, domain = 0, one = 1;
		socklen_t len = sizeof(int);

		if (getsockopt(fd, SOL_SOCKET, SO_ACCEPTCONN, &listening, &len) != 0 || !listening)
			continue;
		len = sizeof(int);
		if (getsockopt(fd, SOL_SOCKET, SO_DOMAIN, &domain, &len) == 0
		    && (domain == AF_INET || domain == AF_INET6))
			setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	}
}

static void
usage(void)
{
	fprintf(stderr, "usage: minimal-milter -p inet:PORT@HOST|unix:/PATH [-N] [-H] [-D]\n");
	exit(64);
}

int
main(int argc, char **argv)
{
	const char *spec = NULL;
	bool	nodelay = true;
	int	c;

	while ((c = getopt(argc, argv, "p:NHD")) != -1) {
		switch (c) {
		case 'p': spec = optarg; break;
		case 'N': nodelay = false; break;
		case 'H': want_headers = 1; break;
		case 'D': want_data = 1; break;
		default: usage();
		}
	}
	if (spec == NULL || optind != argc)
		usage();
	if (want_headers)
		desc.xxfi_header = mm_header;
	if (want_data)
		desc.xxfi_data = mm_data;
	if (strncmp(spec, "unix:", 5) == 0)
		unlink(spec + 5);
	if (smfi_setconn((char *)spec) != MI_SUCCESS || smfi_register(desc) != MI_SUCCESS) {
		fprintf(stderr, "minimal-milter: libmilter refused %s\n", spec);
		return (78);
	}
	umask(0);			/* unix socket 0666: Postfix's smtpd may connect */
	if (smfi_opensocket(true) != MI_SUCCESS) {
		fprintf(stderr, "minimal-milter: cannot open %s\n", spec);
		return (71);
	}
	umask(022);
	if (nodelay)
		set_nodelay();
	return (smfi_main() == MI_SUCCESS ? 0 : 71);
}
