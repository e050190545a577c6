#ifndef TP_PROBE_H
#define TP_PROBE_H

/*
 * NAME
 *	tp_probe 3h
 * SUMMARY
 *	inside tlspolicyctl probe: one address and port, step by step
 * SYNOPSIS
 *	#include "ctl/tp_probe.h"
 *
 *	int	tp_probe_main(int argc, char **argv);	probe.c, in tp_ctl.h
 *
 *	void	tp_probe_smtp_run(const struct tp_probe_opts *opts,
 *				  struct tp_probe_tls_ctx *tls,
 *				  const struct sockaddr *sa, socklen_t salen,
 *				  struct tp_probe_result *r);	probe_smtp.c
 *	void	tp_probe_ehlo_keep(struct tp_probe_ehlo *e, int code,
 *				  const char *const *lines, int nlines,
 *				  struct tp_probe_result *r, int before_tls);
 *	int	tp_probe_masked_keyword(const char *kw);
 *
 *	struct tp_probe_tls_ctx *tp_probe_tls_new(const char *ca,
 *				  char *why, size_t len);	probe_tls.c
 *	void	tp_probe_tls_free(struct tp_probe_tls_ctx *tls);
 *	int	tp_probe_tls_can_offer(struct tp_probe_tls_ctx *tls,
 *				  int version, int *seclevel0);
 *	int	tp_probe_tls_handshake(struct tp_probe_tls_ctx *tls,
 *				  struct tp_probe_io *io, int version,
 *				  int seclevel0, const char *sni,
 *				  long deadline, char *why, size_t len);
 *	void	tp_probe_tls_describe(struct tp_probe_tls_ctx *tls,
 *				  struct tp_probe_io *io, const char *name,
 *				  struct tp_probe_result *r);
 *	int	tp_probe_tls_wait(const struct tp_probe_io *io, int rc,
 *				  long deadline);
 *	int	tp_probe_tls_version(int i);
 *	const char *tp_probe_tls_version_name(int i);
 *
 *	long	tp_probe_now_ms(void);				probe_util.c
 *	long	tp_probe_ms_left(const struct tp_probe_opts *opts);
 *	int	tp_probe_io_wait(int fd, short events, long deadline);
 *	void	tp_probe_store(char *dst, size_t size, const char *raw);
 *
 *	void	tp_probe_verdicts(struct tp_probe_result *r);	probe_verdict.c
 *	const char *tp_probe_verdict_code(enum tp_probe_verdict v);
 *	const char *tp_probe_verdict_text(enum tp_probe_verdict v);
 *	int	tp_probe_verdict_serious(enum tp_probe_verdict v);
 *
 *	void	tp_probe_sts_run(const struct tp_probe_opts *opts,
 *				 struct tp_dns *dns, const char *domain,
 *				 struct tp_probe_sts *sts);	probe_sts.c
 *	void	tp_probe_sts_free(struct tp_probe_sts *sts);
 *
 *	void	tp_probe_dest_check(struct tp_probe_result *r);	probe_dest.c
 *	int	tp_probe_name_covers(const char *a, const char *b);
 *
 *	void	tp_probe_print_text(FILE *fp,
 *				  const struct tp_probe_result *r);
 *	struct json_object *tp_probe_json(
 *				  const struct tp_probe_result *r); probe_print.c
 *	void	tp_probe_sts_print(FILE *fp, const struct tp_probe_sts *sts,
 *				   const struct tp_dns_result *mx);
 *	struct json_object *tp_probe_sts_json(const struct tp_probe_sts *sts,
 *				   const struct tp_dns_result *mx);
 * DESCRIPTION
 *	probe.c turns the command line into a list of addresses and ports
 *	and runs each through probe_smtp.c, which does the network steps
 *	1-7 of tlspolicyctl(8) (connect, first bytes, EHLO, MAIL FROM:<>
 *	then RSET, STARTTLS or implicit TLS, certificate, EHLO in TLS),
 *	calling probe_tls.c for everything OpenSSL. The steps fill one
 *	struct tp_probe_result; probe_verdict.c derives the verdicts from
 *	it, probe_print.c prints it as text or JSON. probe_util.c has the
 *	clock, the wait and the escaping store that the others share. The
 *	modules call downwards only: util <- tls <- smtp, tls <- verdict
 *	<- print, all <- probe.
 *
 *	Under --mx, probe_sts.c does step 8 once per domain (the TXT
 *	record, the policy fetched and parsed) and each address's result
 *	points at it; with --policy, probe_dest.c compares each address's
 *	steps with the domain's dest: rule (r->dest.rule, set by probe.c).
 *
 *	Every string that came from the network is stored escaped for a
 *	terminal (TP_ESCAPE_TERM: valid UTF-8, no control character) at
 *	the moment it is stored, so the printers never see raw server text.
 * MEMORY
 *	A result is one flat structure of fixed-size fields: nothing to
 *	free. tp_probe_tls_new()'s context: tp_probe_tls_free().
 */

#include <stdio.h>
#include <sys/socket.h>
#include <time.h>

#include <openssl/ssl.h>

#include "ctl/tp_dns.h"
#include "ctl/tp_mta_sts.h"
#include "policy/tp_policy.h"

#define TP_PROBE_SCHEMA		1	/* the --json document's version */
#define TP_PROBE_EXIT_OK	0	/* every target speaks TLS that verifies */
#define TP_PROBE_EXIT_FINDING	1	/* something breaks or weakens TLS */
#define TP_PROBE_EXIT_USAGE	2
#define TP_PROBE_EXIT_UNREACHABLE 3	/* nothing reachable */

#define TP_PROBE_TIMEOUT	(-2)	/* what a network function returns */

#define TP_PROBE_TEXT_MAX	512	/* one stored server string, escaped */
#define TP_PROBE_CAPS_MAX	32	/* EHLO keywords kept */
#define TP_PROBE_NAMES_MAX	16	/* certificate names kept */
#define TP_PROBE_CAS_MAX	16	/* client CA names kept */
#define TP_PROBE_VERDICTS_MAX	24

/* What the command line says; read-only after parsing. */
struct tp_probe_opts {
	int	timeout;		/* seconds, each network step */
	struct timespec deadline;	/* CLOCK_MONOTONIC: the whole run */
	const char *ca;			/* --ca FILE or NULL */
	const char *name;		/* --name NAME or NULL: the host */
	const char *helo;		/* our EHLO name */
	int	versions;		/* try each TLS version: 1 */
	int	mx_port;		/* --port: what --mx probes (25) */
	const char *dns_server;		/* --dns ADDR[@PORT] or NULL */
	const char *trust_anchor;	/* --trust-anchor FILE or NULL */
	const char *const *connect_to;	/* --connect-to, for the MTA-STS fetch */
	size_t	nconnect_to;
};

/* The network steps, for "timeout" naming the step. */
enum tp_probe_step {
	TP_STEP_NONE, TP_STEP_CONNECT, TP_STEP_BANNER, TP_STEP_HELLO,
	TP_STEP_EHLO, TP_STEP_MAIL, TP_STEP_STARTTLS, TP_STEP_HANDSHAKE,
	TP_STEP_EHLO_TLS,
	TP_STEP_RUN,			/* not probed: --max-time reached */
};

enum tp_probe_connect {
	TP_CONNECT_NOT_TRIED, TP_CONNECT_OK, TP_CONNECT_REFUSED,
	TP_CONNECT_TIMEOUT, TP_CONNECT_ERROR,
};

/* What the first bytes said (step 2). */
enum tp_probe_mode {
	TP_MODE_UNKNOWN,		/* not reached */
	TP_MODE_PLAIN,			/* 220 banner: plaintext SMTP */
	TP_MODE_IMPLICIT,		/* silence, then a ServerHello */
	TP_MODE_NOT_SMTP,		/* neither */
	TP_MODE_SILENT,			/* nothing at all: timed out */
};

enum tp_probe_starttls {
	TP_STARTTLS_UNKNOWN, TP_STARTTLS_OFFERED, TP_STARTTLS_NOT_OFFERED,
	TP_STARTTLS_MASKED,
};

/* MAIL FROM:<> before TLS (step 4). */
enum tp_probe_enforce {
	TP_ENFORCE_NOT_TRIED, TP_ENFORCE_REQUIRED, TP_ENFORCE_ACCEPTED,
	TP_ENFORCE_OTHER,
};

/* One TLS version tried on its own (step 5). */
enum tp_probe_vtry {
	TP_VTRY_NOT_TRIED,		/* earlier step failed */
	TP_VTRY_ACCEPTED, TP_VTRY_REFUSED,
	TP_VTRY_IMPOSSIBLE,		/* local OpenSSL cannot offer it */
};

#define TP_PROBE_NVERSIONS	4	/* TLS 1.0, 1.1, 1.2, 1.3 */

/* An SMTP reply as stored: its code and first line, escaped. */
struct tp_probe_reply {
	int	code;			/* 0: none */
	char	text[TP_PROBE_TEXT_MAX];	/* first line, escaped */
};

/* An EHLO reply: the keywords (escaped, upper case, no parameters). */
struct tp_probe_ehlo {
	int	done;			/* a reply came */
	struct tp_probe_reply reply;
	int	ncaps;
	char	caps[TP_PROBE_CAPS_MAX][64];
};

/* The server certificate (step 6); names escaped. */
struct tp_probe_cert {
	int	present;
	char	subject[TP_PROBE_TEXT_MAX];	/* one-line DN */
	char	cn[256];
	char	issuer[TP_PROBE_TEXT_MAX];
	int	nnames;
	char	names[TP_PROBE_NAMES_MAX][256];	/* DNS and IP SANs */
	int	verified;
	long	verify_error;		/* X509_V_* */
	char	verify_text[128];
	int	name_checked;		/* against check_name */
	char	check_name[256];
	int	name_match;
	char	not_after[32];		/* YYYY-MM-DD HH:MM:SS UTC */
	long	days_left;		/* negative: expired */
	int	expired, not_yet_valid;
	int	self_signed;
	int	incomplete_chain;
	int	chain_len;		/* as the server sent it */
};

/* The TLS session (step 5). */
struct tp_probe_tls {
	int	tried;
	int	ok;			/* the first handshake worked */
	int	peer_tls;		/* the server answered in TLS */
	char	error[256];		/* handshake failure */
	char	version[16];
	char	cipher[64];
	int	bits;
	char	group[32];
	int	ccert_requested;
	int	ncas;
	char	cas[TP_PROBE_CAS_MAX][256];	/* escaped one-line DNs */
	enum tp_probe_vtry vtry[TP_PROBE_NVERSIONS];
	int	vtry_seclevel0[TP_PROBE_NVERSIONS];	/* tried at SECLEVEL=0 */
	char	vtry_error[TP_PROBE_NVERSIONS][128];
};

/* Verdicts, in the order they are printed. */
enum tp_probe_verdict {
	TP_V_CONNECT_REFUSED, TP_V_TIMEOUT, TP_V_NOT_SMTP,
	TP_V_STARTTLS_PORT, TP_V_IMPLICIT_TLS_PORT,
	TP_V_NO_TLS, TP_V_STARTTLS_NOT_OFFERED, TP_V_STARTTLS_MASKED,
	TP_V_STARTTLS_REQUIRED, TP_V_PLAINTEXT_ACCEPTED,
	TP_V_TLS_VERSION_OLD,
	TP_V_CERT_UNTRUSTED, TP_V_CERT_SELF_SIGNED, TP_V_CERT_EXPIRED,
	TP_V_CERT_EXPIRING, TP_V_CERT_NAME_MISMATCH,
	TP_V_CLIENT_CERT_REQUESTED,
	TP_V_DANE_MISMATCH, TP_V_DANE_UNVALIDATED,
	TP_V_MTA_STS_MISMATCH, TP_V_MTA_STS_UNUSABLE,
	TP_V_DEST_RULE_UNMET,
	TP_V_COUNT,
};

struct tp_probe_finding {
	enum tp_probe_verdict code;
	char	detail[TP_PROBE_TEXT_MAX];	/* escaped; may be "" */
};

/* Step 9: the MX's TLSA records, and whether the certificate matches. */
struct tp_probe_dane {
	const struct tp_dns_result *tlsa;	/* in: NULL, no DANE check */
	char	name[300];		/* _PORT._tcp.HOST, escaped */
	int	matched;		/* 1 a record matched, 0 none, -1 error */
	int	tried;			/* a secure answer met a handshake */
	unsigned usage, selector, mtype;	/* the record that matched */
	int	depth;			/* of the certificate it matched */
	char	why[256];		/* no match: why */
};

/*
 * Step 8: a --mx domain's MTA-STS policy, looked up once for all its MX.
 * found: 1 a valid STSv1 TXT record, 0 none, -1 a broken one or a DNS
 * failure (why); policy: NULL unless fetched and parsed (else error).
 */
struct tp_probe_sts {
	char	domain[256];		/* escaped */
	enum tp_dns_status txt_status;
	int	found;
	char	id[TP_STS_ID_MAX + 1];
	char	why[TP_PROBE_TEXT_MAX];	/* found <= 0: why, escaped */
	char	url[300];		/* escaped */
	char	error[TP_PROBE_TEXT_MAX];	/* fetch or parse failure */
	struct tp_sts_policy *policy;
};

/* With --policy: the domain's dest: rule, and what of it the probe saw unmet. */
struct tp_probe_dest {
	const struct tp_outbound *rule;	/* NULL: no dest: rule */
	int	checked;		/* the rule was compared */
	char	unmet[TP_PROBE_TEXT_MAX];	/* "" if satisfied */
};

/* One address and port, steps 1-7 (and 8, 9 under --mx). */
struct tp_probe_result {
	char	host[256];		/* as given */
	char	addr[64];		/* numeric */
	int	family;			/* AF_INET, AF_INET6 */
	int	port;
	enum tp_probe_step timeout_step;	/* the step that timed out */
	enum tp_probe_connect connect;
	char	connect_error[128];
	long	connect_ms;
	enum tp_probe_mode mode;
	struct tp_probe_reply banner;
	struct tp_probe_ehlo ehlo;	/* before TLS */
	enum tp_probe_starttls starttls;
	char	masked_as[64];		/* the keyword in STARTTLS's place */
	enum tp_probe_enforce enforce;
	struct tp_probe_reply mail;	/* MAIL FROM:<> before TLS */
	struct tp_probe_reply starttls_reply;
	struct tp_probe_tls tls;
	struct tp_probe_cert cert;
	struct tp_probe_ehlo ehlo_tls;	/* after TLS */
	struct tp_probe_dane dane;
	const struct tp_probe_sts *sts;	/* --mx: the domain's step 8, or NULL */
	int	sts_match;		/* the host matches the policy's mx */
	struct tp_probe_dest dest;	/* --policy */
	int	requiretls;
	long	elapsed_ms;
	int	nfindings;
	struct tp_probe_finding findings[TP_PROBE_VERDICTS_MAX];
};

/* A connection: a socket, and once TLS is up, its SSL. */
struct tp_probe_io {
	int	fd;
	SSL    *ssl;
	char	in[8192];		/* read, not yet consumed */
	size_t	inlen;
	int	ccert_requested;	/* the server asked for a certificate */
	int	peer_tls;		/* a TLS alert or handshake came back */
};

struct tp_probe_tls_ctx;

extern void tp_probe_smtp_run(const struct tp_probe_opts *,
			      struct tp_probe_tls_ctx *,
			      const struct sockaddr *, socklen_t,
			      struct tp_probe_result *);
extern long tp_probe_ms_left(const struct tp_probe_opts *);
extern long tp_probe_now_ms(void);
extern int tp_probe_io_wait(int, short, long);

extern struct tp_probe_tls_ctx *tp_probe_tls_new(const char *, char *, size_t);
extern void tp_probe_tls_free(struct tp_probe_tls_ctx *);
extern int tp_probe_tls_can_offer(struct tp_probe_tls_ctx *, int, int *);
extern int tp_probe_tls_handshake(struct tp_probe_tls_ctx *, struct tp_probe_io *,
				  int, int, const char *, long, char *, size_t);
extern void tp_probe_tls_describe(struct tp_probe_tls_ctx *,
				  struct tp_probe_io *, const char *,
				  struct tp_probe_result *);
extern int tp_probe_tls_wait(const struct tp_probe_io *, int, long);
extern int tp_probe_tls_version(int);
extern const char *tp_probe_tls_version_name(int);

extern void tp_probe_verdicts(struct tp_probe_result *);
extern const char *tp_probe_verdict_code(enum tp_probe_verdict);
extern const char *tp_probe_verdict_text(enum tp_probe_verdict);
extern int tp_probe_verdict_serious(enum tp_probe_verdict);
extern const char *tp_probe_step_name(enum tp_probe_step);

struct json_object;
extern void tp_probe_print_text(FILE *, const struct tp_probe_result *);
extern struct json_object *tp_probe_json(const struct tp_probe_result *);

extern void tp_probe_store(char *, size_t, const char *);

extern void tp_probe_sts_run(const struct tp_probe_opts *, struct tp_dns *,
			     const char *, struct tp_probe_sts *);
extern void tp_probe_sts_free(struct tp_probe_sts *);
extern void tp_probe_sts_print(FILE *, const struct tp_probe_sts *,
			       const struct tp_dns_result *);
extern struct json_object *tp_probe_sts_json(const struct tp_probe_sts *,
					     const struct tp_dns_result *);

extern void tp_probe_ehlo_keep(struct tp_probe_ehlo *, int, const char *const *,
			       int, struct tp_probe_result *, int);
extern int tp_probe_masked_keyword(const char *);

extern void tp_probe_dest_check(struct tp_probe_result *);
extern int tp_probe_name_covers(const char *, const char *);


#endif
