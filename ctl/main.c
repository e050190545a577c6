/*
 * NAME
 *	tlspolicyctl 8
 * SUMMARY
 *	the admin's tool: check, explain, report, status, apply, export
 * SYNOPSIS
 *	tlspolicyctl COMMAND [OPTIONS]
 *	tlspolicyctl COMMAND --help
 *	tlspolicyctl --help | --version
 * DESCRIPTION
 *	The front end: the table of commands, the global --help that
 *	lists them, and the dispatch to a command's function, which gets
 *	argv from the command's name on and returns the exit status.
 *	Each command is a module of its own (check.c, explain.c,
 *	report_cmd.c, status.c, apply.c, export.c) with its own options
 *	and --help; a new one is one line in the table. See tlspolicyctl(8).
 * EXIT STATUS
 *	The command's; 64 when there is no such command.
 */

#include <stdio.h>
#include <string.h>

#include "config.h"
#include "ctl/tp_ctl.h"
#include "ctl/tp_report.h"

/* One command: its name, its function and what it does, in a line. */
struct command {
	const char *name;
	int	(*main) (int, char **);
	const char *summary;
};

static const struct command commands[] = {
	{"check", tp_check_main, "validate a policy file"},
	{"explain", tp_explain_main, "show what the milter decides for one session"},
	{"report", tp_report_main, "summarize audit logs: is a domain ready to enforce?"},
	{"status", tp_status_main, "print the running daemon's counters"},
	{"apply", tp_apply_main, "put a new policy in force in the running daemon"},
	{"export", tp_export_main, "write the outbound rules as Postfix or Sendmail tables"},
	{"probe", tp_probe_main, "say in plain words why TLS with a mail server fails"},
	{"import", tp_import_main, "write dest: rules from MTA-STS or STARTTLS Everywhere"},
};

#define NCOMMANDS (sizeof(commands) / sizeof(commands[0]))

/* usage - the commands, in a line each */

static void
usage(FILE *fp)
{
	fprintf(fp, "Usage: tlspolicyctl COMMAND [OPTIONS]\n"
		"       tlspolicyctl COMMAND --help\n\n"
		"Check a tlspolicy policy file, explain what the milter decides, and\n"
		"watch the running milter.\n\nCommands:\n");
	for (size_t i = 0; i < NCOMMANDS; i++)
		fprintf(fp, "  %-9s %s\n", commands[i].name, commands[i].summary);
	fprintf(fp, "\nOptions:\n"
		"  -h, --help     this text\n"
		"  -V, --version  print the version\n\n"
		"Exit status:\n"
		"  the command's (see tlspolicyctl COMMAND --help); 64 usage error.\n");
}

/* bad_usage - complain, point at --help */

static int
bad_usage(const char *what, const char *detail)
{
	fprintf(stderr, "tlspolicyctl: %s%s%s\nTry 'tlspolicyctl --help'.\n",
		what, detail ? ": " : "", detail ? detail : "");
	return (TP_CTL_EXIT_USAGE);
}

int
main(int argc, char **argv)
{
	if (argc < 2)
		return (bad_usage("missing command", NULL));
	if (strcmp(argv[1], "-h") == 0 || strcmp(argv[1], "--help") == 0) {
		usage(stdout);
		return (0);
	}
	if (strcmp(argv[1], "-V") == 0 || strcmp(argv[1], "--version") == 0) {
		printf("tlspolicyctl %s\n", PACKAGE_VERSION);
		return (0);
	}
	for (size_t i = 0; i < NCOMMANDS; i++)
		if (strcmp(argv[1], commands[i].name) == 0)
			return (commands[i].main(argc - 1, argv + 1));
	return (bad_usage(argv[1][0] == '-' ? "missing command" : "unknown command",
			  argv[1]));
}
