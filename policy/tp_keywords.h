#ifndef TP_KEYWORDS_H
#define TP_KEYWORDS_H

/*
 * NAME
 *	tp_keywords 3h
 * SUMMARY
 *	the words of the policy language, one table each
 * SYNOPSIS
 *	#include "policy/tp_keywords.h"
 *
 *	extern const char *const tp_level_words[];
 *	extern const char *const tp_action_words[];
 *	extern const char *const tp_mode_words[];
 *	extern const char *const tp_yesno_words[];
 *
 *	int	tp_keyword_find(const char *const *words, const char *text);
 * DESCRIPTION
 *	Each table is indexed by the value its word stands for (enum
 *	tp_level, enum tp_action; mode: 0 enforce, 1 testing; yes/no:
 *	0 no, 1 yes) and ends in NULL. The parser reads words through
 *	these tables and tp_level_name() and friends (tp_policy.h) write
 *	them back, so a word is spelled in one place.
 *
 *	tp_keyword_find() returns the index of text in words, compared
 *	without regard to ASCII case, or -1.
 */

extern const char *const tp_level_words[];
extern const char *const tp_action_words[];
extern const char *const tp_mode_words[];
extern const char *const tp_yesno_words[];

extern int tp_keyword_find(const char *const *, const char *);

#endif
