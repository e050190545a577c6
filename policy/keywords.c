/*
 * NAME
 *	keywords 3
 * SUMMARY
 *	the words of the policy language and the names of results
 * SYNOPSIS
 *	#include "policy/tp_keywords.h"
 *	#include "policy/tp_policy.h"
 *
 *	const char *tp_level_name(enum tp_level level);
 *	const char *tp_action_name(enum tp_action action);
 *	const char *tp_action_past(enum tp_action action);
 *	const char *tp_result_name(enum tp_result result);
 * DESCRIPTION
 *	The tables of tp_keywords.h, and the name of each value for logs,
 *	replies and the audit trail. A value out of range is named "?".
 */

#include <stddef.h>
#include <strings.h>

#include "policy/tp_keywords.h"
#include "policy/tp_policy.h"

#define COUNT(a)	(sizeof(a) / sizeof((a)[0]) - 1)	/* less the NULL */

const char *const tp_level_words[] = {
	[TP_LEVEL_SKIP] = "skip",
	[TP_LEVEL_PREFER] = "prefer",
	[TP_LEVEL_REQUIRE] = "require",
	[TP_LEVEL_EXEMPT] = "exempt",
	[TP_LEVEL_EXEMPT + 1] = NULL,
};

const char *const tp_action_words[] = {
	[TP_ACTION_TAG] = "tag",
	[TP_ACTION_QUARANTINE] = "quarantine",
	[TP_ACTION_TEMPFAIL] = "tempfail",
	[TP_ACTION_REJECT] = "reject",
	[TP_ACTION_REJECT + 1] = NULL,
};

const char *const tp_mode_words[] = {"enforce", "testing", NULL};
const char *const tp_yesno_words[] = {"no", "yes", NULL};

/* What the log says a testing rule would have done, by enum tp_action. */
static const char *const action_past[] = {
	[TP_ACTION_TAG] = "tagged",
	[TP_ACTION_QUARANTINE] = "quarantined",
	[TP_ACTION_TEMPFAIL] = "tempfailed",
	[TP_ACTION_REJECT] = "rejected",
	[TP_ACTION_REJECT + 1] = NULL,
};

static const char *const result_names[] = {
	[TP_RESULT_PASS] = "pass",
	[TP_RESULT_FAIL] = "fail",
	[TP_RESULT_UNMET] = "unmet-prefer",
	[TP_RESULT_SKIP] = "skip",
	[TP_RESULT_EXEMPT] = "exempt",
	[TP_RESULT_EXEMPT + 1] = NULL,
};

/* tp_keyword_find - index of a word, ASCII case ignored, or -1 */

int
tp_keyword_find(const char *const *words, const char *text)
{
	for (int i = 0; words[i] != NULL; i++)
		if (strcasecmp(text, words[i]) == 0)
			return (i);
	return (-1);
}

/* tp_level_name - policy keyword of a level */

const char *
tp_level_name(enum tp_level level)
{
	return ((size_t)level < COUNT(tp_level_words) ? tp_level_words[level] : "?");
}

/* tp_action_name - policy keyword of an action */

const char *
tp_action_name(enum tp_action action)
{
	return ((size_t)action < COUNT(tp_action_words) ? tp_action_words[action] : "?");
}

/* tp_action_past - "would have ..." form of an action */

const char *
tp_action_past(enum tp_action action)
{
	return ((size_t)action < COUNT(action_past) ? action_past[action] : "?");
}

/* tp_result_name - name of a result, for logs and the audit trail */

const char *
tp_result_name(enum tp_result result)
{
	return ((size_t)result < COUNT(result_names) ? result_names[result] : "?");
}
