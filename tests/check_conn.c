/*
 * NAME
 *	check_conn 1
 * SUMMARY
 *	unit tests: one connection's state through the stages of a session
 * DESCRIPTION
 *	Each scenario plays what an MTA sends the milter (the macros of
 *	each stage, as libmilter hands them on: a stage's macros stay
 *	visible at later stages, and a stage seen again replaces its own
 *	and clears those after it) through conn.c, as callbacks.c does,
 *	with a test environment instead of the daemon's: a listener check,
 *	no policy, a log that counts lines, and counters of our own.
 *
 *	A failed copy is made with the linker's --wrap=strndup: the test
 *	binary's strndup fails on the call fail_at names.
 */

#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "check_suites.h"
#include "milter/tp_conn.h"

/* ---- a failing strndup ---------------------------------------------------- */

extern char *__real_strndup(const char *, size_t);
extern char *__wrap_strndup(const char *, size_t);

static unsigned fail_at;		/* 0: none; n: the nth call from now */
static unsigned copies;			/* calls so far */

/* __wrap_strndup - strndup, except the call fail_at names */

char   *
__wrap_strndup(const char *s, size_t n)
{
	copies++;
	if (fail_at > 0 && --fail_at == 0)
		return (NULL);
	return (__real_strndup(s, n));
}

/* ---- the environment -------------------------------------------------------- */

static struct tp_stats stats;
static unsigned log_lines;

/* listener_is_implicit - the test's implicit_tls = MTA-SSL, 465 */

static bool
listener_is_implicit(const char *name, const char *port)
{
	return ((name != NULL && strcasecmp(name, "MTA-SSL") == 0)
		|| (port != NULL && strcmp(port, "465") == 0));
}

/* no_policy - conn.c only holds the reference */

static struct tp_policy *
no_policy(unsigned long *generation)
{
	*generation = 7;
	return (NULL);
}

/* count_line - the log: count the lines */

static void
count_line(int pri, const char *line, size_t len)
{
	(void)pri, (void)line, (void)len;
	log_lines++;
}

static const struct tp_conn_env env = {
	"mx.test", listener_is_implicit, no_policy, count_line, NULL, &stats,
};

/* ---- the MTA ------------------------------------------------------------------ */

struct macro {
	const char *name;
	const char *value;
};

enum stage {
	CONNECT, HELO, MAIL, RCPT, STAGES,
	ABORT = STAGES,			/* not a stage: what the MTA does next */
};

/* The macros libmilter holds for the current callback. */
struct mta {
	const struct macro *stages[STAGES];
	enum stage at;
	unsigned lookups;		/* macros asked for so far */
};

/* lookup - smfi_getsymval: this stage's macros first, then earlier ones */

static const char *
lookup(void *ctx, const char *name)
{
	struct mta *mta = ctx;

	mta->lookups++;
	for (int s = (int)mta->at; s >= 0; s--)
		for (const struct macro *m = mta->stages[s]; m != NULL && m->name; m++)
			if (strcmp(m->name, name) == 0)
				return (m->value);
	return (NULL);
}

/* One step of a session: a stage and its macros, or an abort. */
struct step {
	enum stage what;
	const struct macro *macros;	/* NULL-terminated; NULL: none */
};

/* play - one step through conn.c, as callbacks.c does; -1 if it failed */

static int
play(struct tp_conn *c, struct mta *mta, const struct step *st)
{
	struct tp_macro_source src = {lookup, mta};

	if (st->what == ABORT) {
		tp_conn_abort(c);
		return (0);
	}
	mta->at = st->what;
	mta->stages[st->what] = st->macros;
	for (int s = (int)st->what + 1; s < STAGES; s++)
		mta->stages[s] = NULL;
	switch (st->what) {
	case CONNECT:
		return (tp_conn_connect(c, &src, "client.test", "192.0.2.1"));
	case HELO:
		return (tp_conn_helo(c, &src, "client.test"));
	case MAIL:
		return (tp_conn_mail(c, &src, "<a@client.test>"));
	default:
		return (tp_conn_rcpt(c, &src));
	}
}

/* fresh - a new connection, counters and log at zero */

static struct tp_conn *
fresh(void)
{
	struct tp_conn *c;

	memset(&stats, 0, sizeof(stats));
	log_lines = 0;
	fail_at = copies = 0;
	c = tp_conn_new(&env);
	ck_assert_ptr_nonnull(c);
	return (c);
}

/* ---- how TLS came about ----------------------------------------------------- */

#define M(...)		((const struct macro[]) {__VA_ARGS__, {NULL, NULL}})
#define TLS13		{"{tls_version}", "TLSv1.3"}, {"{cipher}", "TLS_AES_256_GCM_SHA384"}, \
			{"{cipher_bits}", "256"}
#define PF_LISTENER	{"{daemon_name}", "mx.e2e.test"}
#define NO_MACROS	M({"j", "mx.test"})

static const struct {
	const char *name;
	struct step steps[8];
	enum tp_tls_how want_how;
	const char *want_version;	/* NULL: none */
	enum tp_verify want_verify;
	const char *want_subject;	/* NULL: none */
} tls_cases[] = {
	{"plaintext", {
		{CONNECT, M(PF_LISTENER)}, {HELO, NO_MACROS}, {MAIL, NO_MACROS}, {RCPT, NO_MACROS},
	 }, TP_TLS_HOW_NONE, NULL, TP_VERIFY_NONE, NULL},
	{"STARTTLS after a plaintext HELO", {
		{CONNECT, M(PF_LISTENER)}, {HELO, NO_MACROS}, {HELO, M(TLS13)},
		{MAIL, NO_MACROS}, {RCPT, NO_MACROS},
	 }, TP_TLS_HOW_STARTTLS, "TLSv1.3", TP_VERIFY_NONE, NULL},
	{"Postfix, implicit TLS: the TLS macros at connect", {
		{CONNECT, M(PF_LISTENER, TLS13)}, {HELO, M(TLS13)}, {MAIL, NO_MACROS},
		{RCPT, NO_MACROS},
	 }, TP_TLS_HOW_IMPLICIT, "TLSv1.3", TP_VERIFY_NONE, NULL},
	{"Postfix, trusted client certificate at connect", {
		{CONNECT, M(PF_LISTENER, TLS13, {"{cert_subject}", "client.test"},
			    {"{cert_issuer}", "Test CA"})}, {HELO, NO_MACROS}, {MAIL, NO_MACROS},
	 }, TP_TLS_HOW_IMPLICIT, "TLSv1.3", TP_VERIFY_OK, "client.test"},
	{"TLS at connect is implicit, whatever the listener flags say", {
		{CONNECT, M({"{daemon_name}", "MTA"}, {"{daemon_flags}", "b"}, TLS13)},
		{HELO, M(TLS13)},
	 }, TP_TLS_HOW_IMPLICIT, "TLSv1.3", TP_VERIFY_NONE, NULL},
	{"implicit TLS at the first HELO, listener named implicit", {
		{CONNECT, M({"{daemon_name}", "MTA-SSL"})}, {HELO, M(TLS13, {"{verify}", "NO"})},
		{MAIL, NO_MACROS},
	 }, TP_TLS_HOW_IMPLICIT, "TLSv1.3", TP_VERIFY_NONE, NULL},
	{"implicit TLS at the first HELO, port named implicit", {
		{CONNECT, M({"{daemon_name}", "smtps"}, {"{daemon_port}", "465"})}, {HELO, NO_MACROS},
		{HELO, M(TLS13)},
	 }, TP_TLS_HOW_IMPLICIT, "TLSv1.3", TP_VERIFY_NONE, NULL},
	{"Sendmail, {daemon_flags} with s: implicit at the first HELO", {
		{CONNECT, M({"{daemon_name}", "MTA-X"}, {"{daemon_flags}", "b s"})},
		{HELO, M(TLS13, {"{verify}", "NO"})},
	 }, TP_TLS_HOW_IMPLICIT, "TLSv1.3", TP_VERIFY_NONE, NULL},
	{"Sendmail, {daemon_flags} without s: STARTTLS before any EHLO", {
		{CONNECT, M({"{daemon_name}", "MTA"}, {"{daemon_flags}", "b EE"})},
		{HELO, M(TLS13, {"{verify}", "NO"})}, {MAIL, NO_MACROS},
	 }, TP_TLS_HOW_STARTTLS, "TLSv1.3", TP_VERIFY_NONE, NULL},
	{"no listener flags, TLS at the first HELO: implicit", {
		{CONNECT, M(PF_LISTENER)}, {HELO, M(TLS13)},
	 }, TP_TLS_HOW_IMPLICIT, "TLSv1.3", TP_VERIFY_NONE, NULL},
	{"EHLO, STARTTLS, MAIL with no second EHLO", {
		{CONNECT, M(PF_LISTENER)}, {HELO, NO_MACROS}, {MAIL, M(TLS13)},
	 }, TP_TLS_HOW_STARTTLS, "TLSv1.3", TP_VERIFY_NONE, NULL},
	{"TLS first seen at RCPT", {
		{CONNECT, M(PF_LISTENER)}, {HELO, NO_MACROS}, {MAIL, NO_MACROS}, {RCPT, M(TLS13)},
	 }, TP_TLS_HOW_STARTTLS, "TLSv1.3", TP_VERIFY_NONE, NULL},
	{"Sendmail, {verify}=FAIL kept when a later stage does not say it", {
		{CONNECT, M({"{daemon_name}", "MTA"}, {"{daemon_flags}", ""})}, {HELO, NO_MACROS},
		{HELO, M(TLS13, {"{verify}", "FAIL"}, {"{cert_subject}", "/CN=rogue"},
			 {"{cn_subject}", "rogue"})},
		{MAIL, M({"{tls_version}", "TLSv1.3"})}, {RCPT, M({"{tls_version}", "TLSv1.3"})},
	 }, TP_TLS_HOW_STARTTLS, "TLSv1.3", TP_VERIFY_FAIL, "rogue"},
	/* early_events = no: RCPT alone; only the listener tells implicit TLS. */
	{"no early events: TLS at RCPT is STARTTLS", {
		{RCPT, M(PF_LISTENER, {"{daemon_port}", "25"}, TLS13)},
	 }, TP_TLS_HOW_STARTTLS, "TLSv1.3", TP_VERIFY_NONE, NULL},
	{"no early events: port 465 is implicit", {
		{RCPT, M(PF_LISTENER, {"{daemon_port}", "465"}, TLS13)},
	 }, TP_TLS_HOW_IMPLICIT, "TLSv1.3", TP_VERIFY_NONE, NULL},
	{"no early events: Sendmail's M=s is implicit", {
		{RCPT, M({"{daemon_name}", "MTA-X"}, {"{daemon_flags}", "s"}, TLS13,
			 {"{verify}", "NO"})},
	 }, TP_TLS_HOW_IMPLICIT, "TLSv1.3", TP_VERIFY_NONE, NULL},
	{"no early events: plaintext", {
		{RCPT, M(PF_LISTENER, {"{daemon_port}", "465"})},
	 }, TP_TLS_HOW_NONE, NULL, TP_VERIFY_NONE, NULL},
};

START_TEST(test_tls_how)
{
	struct tp_conn *c = fresh();
	struct mta mta = {{NULL}, CONNECT, 0};
	const struct tp_tls_state *tls = &c->tls;

	for (const struct step *st = tls_cases[_i].steps; st->macros != NULL; st++)
		ck_assert_int_eq(play(c, &mta, st), 0);
	ck_assert_msg(tls->how == tls_cases[_i].want_how, "%s: got %s, want %s",
		      tls_cases[_i].name, tp_tls_how_name(tls->how),
		      tp_tls_how_name(tls_cases[_i].want_how));
	if (tls_cases[_i].want_version)
		ck_assert_msg(tls->version && strcmp(tls->version, tls_cases[_i].want_version) == 0,
			      "%s: got version %s", tls_cases[_i].name, tls->version);
	else
		ck_assert_ptr_null(tls->version);
	ck_assert_msg(tls->verify == tls_cases[_i].want_verify, "%s: got verify %s, want %s",
		      tls_cases[_i].name, tp_verify_name(tls->verify),
		      tp_verify_name(tls_cases[_i].want_verify));
	if (tls_cases[_i].want_subject)
		ck_assert_str_eq(tls->cert_subject, tls_cases[_i].want_subject);
	else
		ck_assert_ptr_null(tls->cert_subject);
	ck_assert_ptr_null(c->broken);
	/* The session is counted once, by how, and by its version if TLS. */
	tp_conn_session_end(c);
	for (size_t how = 0; how < TP_STAT_HOWS; how++)
		ck_assert_msg(stats.sessions[how] == (how == tls_cases[_i].want_how),
			      "%s: sessions[%s] = %lu", tls_cases[_i].name,
			      tp_tls_how_name((enum tp_tls_how)how), stats.sessions[how]);
	ck_assert_uint_eq(stats.tls_versions[TP_TLS_V1_3 - TP_TLS_UNKNOWN],
			  tls_cases[_i].want_version != NULL);
	tp_conn_free(c);
}
END_TEST

/* ---- messages ----------------------------------------------------------------- */

/* add_rcpt - a recipient decision, as mlfi_envrcpt keeps it */

static void
add_rcpt(struct tp_conn *c, const char *addr, bool refused)
{
	struct tp_record_rcpt *r = tp_conn_add_rcpt(c);

	ck_assert_ptr_nonnull(r);
	r->addr = strdup(addr);
	r->reason = strdup("test");
	r->result = refused ? TP_RESULT_FAIL : TP_RESULT_PASS;
	r->action = TP_ACTION_REJECT;
	r->refused = refused;
}

/* messages - messages counted, whatever their outcome */

static unsigned long
messages(void)
{
	unsigned long n = 0;

	for (int i = 0; i < TP_STAT_OUTCOMES; i++)
		n += stats.messages[i];
	return (n);
}

/* Postfix aborts twice after a RCPT it refused: one record, one count. */
START_TEST(test_double_abort)
{
	struct tp_conn *c = fresh();
	struct mta mta = {{NULL}, CONNECT, 0};
	const struct step steps[] = {
		{CONNECT, M(PF_LISTENER)}, {HELO, NO_MACROS}, {MAIL, NO_MACROS}, {RCPT, NO_MACROS},
	};

	for (size_t i = 0; i < sizeof(steps) / sizeof(steps[0]); i++)
		ck_assert_int_eq(play(c, &mta, &steps[i]), 0);
	add_rcpt(c, "<b@remote.test>", true);
	tp_conn_abort(c);
	ck_assert_uint_eq(stats.messages[TP_STAT_REJECTED], 1);
	ck_assert_uint_eq(log_lines, 1);
	tp_conn_abort(c);
	ck_assert_msg(messages() == 1 && log_lines == 1 && c->messages == 1,
		      "second abort: got %lu messages, %u log lines", messages(), log_lines);
	/* Nor does the end of the session count it again. */
	tp_conn_session_end(c);
	ck_assert_uint_eq(messages(), 1);
	tp_conn_free(c);
}
END_TEST

/* Nothing of one message is left in the next: queue id, sender, recipients. */
START_TEST(test_message_reset)
{
	struct tp_conn *c = fresh();
	struct mta mta = {{NULL}, CONNECT, 0};
	const struct step first[] = {
		{CONNECT, M(PF_LISTENER)}, {HELO, NO_MACROS},
		{MAIL, M({"i", "QUEUE1"}, {"{auth_authen}", "alice"})}, {RCPT, NO_MACROS},
	};
	const struct step second = {MAIL, NO_MACROS};

	for (size_t i = 0; i < sizeof(first) / sizeof(first[0]); i++)
		ck_assert_int_eq(play(c, &mta, &first[i]), 0);
	add_rcpt(c, "<b@remote.test>", false);
	c->forged_headers = 2;
	ck_assert_str_eq(c->queue_id, "QUEUE1");
	tp_conn_message_end(c, "accepted", NULL);
	ck_assert_uint_eq(stats.messages[TP_STAT_ACCEPTED], 1);
	ck_assert_int_eq(play(c, &mta, &second), 0);
	ck_assert_msg(c->queue_id == NULL && c->auth == NULL && c->nrcpts == 0
		      && c->forged_headers == 0 && c->message_open,
		      "second message: got queue id %s, auth %s, %zu recipients, %u forged",
		      c->queue_id ? c->queue_id : "-", c->auth ? c->auth : "-", c->nrcpts,
		      c->forged_headers);
	/* A MAIL while a message is open ends it as aborted. */
	add_rcpt(c, "<c@remote.test>", false);
	ck_assert_int_eq(play(c, &mta, &second), 0);
	ck_assert_uint_eq(stats.messages[TP_STAT_ABORTED], 1);
	ck_assert_uint_eq(c->nrcpts, 0);
	ck_assert_uint_eq(c->messages, 2);
	tp_conn_free(c);
}
END_TEST

/*
 * early_events = no: every RCPT brings the connect, HELO and MAIL macros,
 * and the first of a message opens it, with the sender as the MTA read it.
 */
START_TEST(test_rcpt_only)
{
	struct tp_conn *c = fresh();
	struct mta mta = {{NULL}, CONNECT, 0};
#define SESSION		{"{client_addr}", "192.0.2.9"}, {"{client_name}", "client.test"}, \
			{"{daemon_name}", "mx.e2e.test"}, {"s", "helo.test"}, TLS13
	const struct step first = {RCPT, M(SESSION, {"{mail_addr}", "a@client.test"},
					   {"{auth_authen}", "alice"}, {"i", "QUEUE1"})};
	const struct step bounce = {RCPT, M(SESSION, {"{mail_addr}", ""})};
	const struct step sendmail_bounce = {RCPT, M(SESSION, {"{mail_addr}", "<>"})};

	ck_assert_int_eq(play(c, &mta, &first), 0);
	ck_assert_msg(c->message_open && c->client_addr && c->client_name && c->helo
		      && c->sender && c->auth && c->queue_id, "a field of the first RCPT missing");
	ck_assert_str_eq(c->client_addr, "192.0.2.9");
	ck_assert_str_eq(c->client_name, "client.test");
	ck_assert_str_eq(c->helo, "helo.test");
	ck_assert_str_eq(c->sender, "<a@client.test>");
	ck_assert_str_eq(c->auth, "alice");
	ck_assert_str_eq(c->queue_id, "QUEUE1");
	ck_assert_int_eq(c->tls.how, TP_TLS_HOW_STARTTLS);
	add_rcpt(c, "<b@remote.test>", false);
	/* A second recipient of the same message reads no sender again. */
	copies = 0;
	ck_assert_int_eq(play(c, &mta, &bounce), 0);
	ck_assert_str_eq(c->sender, "<a@client.test>");
	ck_assert_uint_eq(copies, 0);
	tp_conn_message_end(c, "accepted", NULL);
	/* The next message: the null sender, as Postfix and Sendmail write it. */
	ck_assert_int_eq(play(c, &mta, &bounce), 0);
	ck_assert_msg(c->message_open && c->sender && strcmp(c->sender, "<>") == 0
		      && c->queue_id == NULL && c->auth == NULL, "second message: sender %s",
		      c->sender ? c->sender : "(none)");
	tp_conn_message_end(c, "accepted", NULL);
	ck_assert_int_eq(play(c, &mta, &sendmail_bounce), 0);
	ck_assert_str_eq(c->sender, "<>");
	tp_conn_message_end(c, "accepted", NULL);
	ck_assert_uint_eq(c->messages, 3);
	ck_assert_ptr_null(c->broken);
	tp_conn_free(c);
#undef SESSION
}
END_TEST

/* {client_addr} as the connect arguments would give it: Sendmail's IPv6. */
START_TEST(test_client_addr_macro)
{
	static const struct {
		const char *macro;
		const char *want;
	}	cases[] = {
		{"IPv6:0:0:0:0:0:0:0:1", "::1"},
		{"IPv6:2001:DB8:0:0:0:0:0:1", "2001:db8::1"},
		{"192.0.2.9", "192.0.2.9"},
		{"not an address", "not an address"},
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct tp_conn *c = fresh();
		struct mta mta = {{NULL}, CONNECT, 0};
		const struct step rcpt = {RCPT, M({"{client_addr}", cases[i].macro})};

		ck_assert_int_eq(play(c, &mta, &rcpt), 0);
		ck_assert_str_eq(c->client_addr, cases[i].want);
		tp_conn_free(c);
	}
}
END_TEST

/* ---- a lost copy -------------------------------------------------------------- */

#define SM_ROGUE	TLS13, {"{verify}", "FAIL"}, {"{cert_subject}", "/CN=rogue"}, \
			{"{cert_issuer}", "/CN=rogue"}, {"{cn_subject}", "rogue"}, \
			{"{cn_issuer}", "rogue"}

/* Each copy the TLS HELO makes, failed in turn: the session must fail. */
START_TEST(test_lost_copy)
{
	const struct step before[] = {
		{CONNECT, M({"{daemon_name}", "MTA"}, {"{daemon_flags}", ""})},
		{HELO, NO_MACROS},
	};
	const struct step tls_helo = {HELO, M(SM_ROGUE)};
	/* The TLS macros (the HELO name is held already); then none fails. */
	const unsigned made = (unsigned)TP_TLS_MACROS;

	for (unsigned n = 1; n <= made + 1; n++) {
		struct tp_conn *c = fresh();
		struct mta mta = {{NULL}, CONNECT, 0};
		int	rc;

		for (size_t i = 0; i < sizeof(before) / sizeof(before[0]); i++)
			ck_assert_int_eq(play(c, &mta, &before[i]), 0);
		fail_at = n;
		rc = play(c, &mta, &tls_helo);
		if (n <= made) {
			ck_assert_msg(rc < 0 && c->broken != NULL,
				      "copy %u of %u failed: got no failure", n, made);
			ck_assert_uint_eq(fail_at, 0);
		} else {
			ck_assert_msg(rc == 0 && c->broken == NULL && fail_at == 1,
				      "no copy failed: got rc %d, broken %s", rc,
				      c->broken ? c->broken : "-");
			ck_assert_int_eq(c->tls.verify, TP_VERIFY_FAIL);
		}
		tp_conn_free(c);
	}
}
END_TEST

/* ---- no copy made twice -------------------------------------------------------- */

/*
 * The MTA repeats the TLS macros at MAIL and RCPT (we ask it to, for a
 * MAIL after STARTTLS with no EHLO): once held, they are not copied again,
 * and RCPT reads nothing it has already.
 */
START_TEST(test_no_copy_twice)
{
	const struct step session[] = {
		{CONNECT, M({"{daemon_name}", "MTA"}, {"{daemon_flags}", ""})}, {HELO, NO_MACROS},
		{HELO, M(SM_ROGUE)},
	};
	const struct step mail = {MAIL, M({"i", "QUEUE1"}, {"{auth_authen}", "alice"}, SM_ROGUE)};
	const struct step rcpt = {RCPT, M({"i", "QUEUE1"}, SM_ROGUE)};
	struct tp_conn *c = fresh();
	struct mta mta = {{NULL}, CONNECT, 0};

	for (size_t i = 0; i < sizeof(session) / sizeof(session[0]); i++)
		ck_assert_int_eq(play(c, &mta, &session[i]), 0);
	copies = 0;
	ck_assert_int_eq(play(c, &mta, &mail), 0);
	/* The sender, the queue id, the login: nothing of TLS. */
	ck_assert_msg(copies == 3, "MAIL: got %u copies, want 3", copies);
	mta.lookups = 0;
	for (int i = 0; i < 3; i++)
		ck_assert_int_eq(play(c, &mta, &rcpt), 0);
	ck_assert_msg(copies == 3, "RCPT: got %u copies, want none", copies - 3);
	/* TLS and the queue id are known: RCPT asks libmilter for nothing. */
	ck_assert_msg(mta.lookups == 0, "RCPT: got %u macros read, want none", mta.lookups);
	ck_assert_int_eq(c->tls.verify, TP_VERIFY_FAIL);
	ck_assert_str_eq(c->tls.cert_subject, "rogue");
	ck_assert_str_eq(c->queue_id, "QUEUE1");
	tp_conn_free(c);
}
END_TEST

/* ---- how deep a session goes into its thread's stack ------------------------ */

/* hostile_macro - every macro a long hostile value, as an MTA may pass on */

static const char *
hostile_macro(void *ctx, const char *name)
{
	(void)ctx;
	if (strcmp(name, "{mail_addr}") == 0)
		return (TEST_HOSTILE_ADDR);
	if (strcmp(name, "i") == 0)
		return ("4ABCDEF");
	return (strcmp(name, "{tls_version}") == 0 ? NULL : "\"quoted\\\"\n\x1b[31m" TEST_LABELS121);
}

/* session - a whole session with an audit log (arg), as callbacks.c plays it */

static void
session(void *arg)
{
	struct tp_conn_env with_audit = env;
	struct tp_macro_source m = {hostile_macro, NULL};
	struct tp_record_rcpt *r;
	struct tp_conn *c;

	with_audit.audit = arg;
	ck_assert_ptr_nonnull(c = tp_conn_new(&with_audit));
	ck_assert_int_eq(tp_conn_connect(c, &m, TEST_LABELS121, "192.0.2.1"), 0);
	ck_assert_int_eq(tp_conn_helo(c, &m, TEST_LABELS121), 0);
	ck_assert_int_eq(tp_conn_mail(c, &m, TEST_HOSTILE_ADDR), 0);
	ck_assert_int_eq(tp_conn_rcpt(c, &m), 0);
	ck_assert_ptr_nonnull(r = tp_conn_add_rcpt(c));
	r->addr = strdup(TEST_HOSTILE_ADDR);
	r->reason = strdup("TLS required for mail from " TEST_LABELS121);
	r->reply = strdup("530 5.7.0 Must issue a STARTTLS command first: " TEST_LABELS121);
	r->result = TP_RESULT_FAIL;
	r->refused = true;
	tp_conn_message_end(c, "rejected", NULL);
	tp_conn_session_end(c);
	tp_conn_free(c);
}

/* A session, its message's end, log line and audit record: check_stack.c */
START_TEST(test_session_stack)
{
	char	path[] = "/tmp/tlspolicy-stack-XXXXXX";
	int	fd = mkstemp(path);
	struct tp_audit *audit;
	struct tp_audit_counts counts;

	ck_assert_int_ge(fd, 0);
	close(fd);
	ck_assert_ptr_nonnull(audit = tp_audit_open(path, 1 << 20, NULL));
	memset(&stats, 0, sizeof(stats));
	log_lines = 0;
	fail_at = 0;
	check_stack_budget("a session and its message's end", session, audit);
	tp_audit_flush(audit);
	tp_audit_stats(audit, &counts);
	tp_audit_close(audit);
	unlink(path);
	/* The work measured is the whole work: a log line, a record written. */
	ck_assert_uint_eq(log_lines, 1);
	ck_assert_uint_eq(counts.written, 1);
}
END_TEST

Suite  *
conn_suite(void)
{
	Suite  *s = suite_create("conn");
	TCase  *tc = tcase_create("conn");

	tcase_add_loop_test(tc, test_tls_how, 0, sizeof(tls_cases) / sizeof(tls_cases[0]));
	tcase_add_test(tc, test_rcpt_only);
	tcase_add_test(tc, test_client_addr_macro);
	tcase_add_test(tc, test_double_abort);
	tcase_add_test(tc, test_message_reset);
	tcase_add_test(tc, test_lost_copy);
	tcase_add_test(tc, test_no_copy_twice);
	tcase_add_test(tc, test_session_stack);
	suite_add_tcase(s, tc);
	return (s);
}
