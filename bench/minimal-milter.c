/*
 * NAME
 *	minimal-milter 1
 * SUMMARY
 *	the floor for a per-recipient milter that adds one header
 * SYNOPSIS
 *	minimal-milter -p SOCKET [-N] [-H] [-D] [-T [-X] [-S]]
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
 *	(That does not prevent the stall on Postfix's side, whose milter
 *	socket has no TCP_NODELAY: see -D and bench/run-postfix-bench.sh.)
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
 *	-T         negotiate exactly as tlspolicy-milter does (connect, HELO,
 *		   MAIL and each header without reply, the same macro lists
 *		   asked for with smfi_setsymlist) but do nothing with them:
 *		   separates the cost of that protocol shape from the cost of
 *		   tlspolicy-milter's own work (diagnostic variant)
 *	-X         with -T: but no header events (SMFIP_NOHDRS)
 *	-S         with -T: but do not ask for macros (the MTA's default lists)
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

/* unconst - libmilter takes char * for strings it only reads */
static char *
unconst(const char *s)
{
	union {
		const char *c;
		char   *p;
	}	u = {s};

	return (u.p);
}

static int want_headers;		/* -H */
static int want_data;			/* -D */
static int like_tp;			/* -T */
static int no_hdrs;			/* -X */
static int no_symlist;			/* -S */

/* -T: the macro lists tlspolicy-milter asks for (milter/callbacks.c) */
#define TLS_MACROS "{tls_version} {cipher} {cipher_bits} {cert_subject} " \
	"{cert_issuer} {verify} {cn_subject} {cn_issuer}"
static const struct {
	int	stage;
	const char *macros;
}	tp_symlists[] = {
	{SMFIM_CONNECT, "j _ {daemon_name} {daemon_port} {daemon_addr} {client_addr} "
	 "{client_name} {client_ptr} {client_resolve} " TLS_MACROS},
	{SMFIM_HELO, TLS_MACROS},
	{SMFIM_ENVFROM, "i {mail_addr} {auth_authen} {auth_type} " TLS_MACROS},
	{SMFIM_ENVRCPT, "i {rcpt_addr} " TLS_MACROS},
	{SMFIM_EOM, "i {msg_id}"},
};

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
	if (like_tp)
		proto = SMFIP_NOBODY | SMFIP_NOUNKNOWN | SMFIP_NODATA | SMFIP_NOEOH
		    | SMFIP_NR_CONN | SMFIP_NR_HELO | SMFIP_NR_MAIL | SMFIP_NR_HDR;
	if (like_tp && no_hdrs)
		proto = (proto & ~SMFIP_NR_HDR) | SMFIP_NOHDRS;
	if (want_data)
		proto &= ~SMFIP_NODATA;
	if ((f1 & proto) != proto)	/* the MTA cannot skip all that */
		return (SMFIS_REJECT);
	*pf0 = f0 & (SMFIF_ADDHDRS | (like_tp ? SMFIF_SETSYMLIST : 0));
	*pf1 = proto;
	*pf2 = *pf3 = 0;
	if (like_tp && !no_symlist && (f0 & SMFIF_SETSYMLIST))
		for (size_t i = 0; i < sizeof(tp_symlists) / sizeof(tp_symlists[0]); i++)
			smfi_setsymlist(ctx, tp_symlists[i].stage, unconst(tp_symlists[i].macros));
	return (SMFIS_CONTINUE);
}

static sfsistat
mm_noreply_conn(SMFICTX *ctx, char *host, _SOCK_ADDR *sa)
{
	(void)ctx, (void)host, (void)sa;
	return (SMFIS_NOREPLY);
}

static sfsistat
mm_noreply_helo(SMFICTX *ctx, char *helo)
{
	(void)ctx, (void)helo;
	return (SMFIS_NOREPLY);
}

static sfsistat
mm_noreply_mail(SMFICTX *ctx, char **argv)
{
	(void)ctx, (void)argv;
	return (SMFIS_NOREPLY);
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

/* set_nodelay - as milter/socket.c: TCP_NODELAY on libmilter's listening socket */

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
	fprintf(stderr, "usage: minimal-milter -p inet:PORT@HOST|unix:/PATH [-N] [-H] [-D] [-T [-X] [-S]]\n");
	exit(64);
}

int
main(int argc, char **argv)
{
	const char *spec = NULL;
	bool	nodelay = true;
	int	c;

	while ((c = getopt(argc, argv, "p:NHDTXS")) != -1) {
		switch (c) {
		case 'p': spec = optarg; break;
		case 'N': nodelay = false; break;
		case 'H': want_headers = 1; break;
		case 'D': want_data = 1; break;
		case 'T': like_tp = 1; break;
		case 'X': no_hdrs = 1; break;
		case 'S': no_symlist = 1; break;
		default: usage();
		}
	}
	if (spec == NULL || optind != argc)
		usage();
	if (like_tp) {
		desc.xxfi_flags |= SMFIF_SETSYMLIST;
		desc.xxfi_connect = mm_noreply_conn;
		desc.xxfi_helo = mm_noreply_helo;
		desc.xxfi_envfrom = mm_noreply_mail;
		want_headers = !no_hdrs;
	}
	if (want_headers)
		desc.xxfi_header = mm_header;
	if (want_data)
		desc.xxfi_data = mm_data;
	if (strncmp(spec, "unix:", 5) == 0)
		unlink(spec + 5);
	if (smfi_setconn(unconst(spec)) != MI_SUCCESS || smfi_register(desc) != MI_SUCCESS) {
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
