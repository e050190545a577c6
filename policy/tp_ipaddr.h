#ifndef TP_IPADDR_H
#define TP_IPADDR_H

/*
 * NAME
 *	tp_ipaddr 3h
 * SUMMARY
 *	IPv4 and IPv6 addresses and prefixes
 * SYNOPSIS
 *	#include "policy/tp_ipaddr.h"
 *
 *	int	tp_ip_parse(const char *text, struct tp_ip *ip);
 *	int	tp_prefix_parse(const char *text, struct tp_ip *ip,
 *				unsigned *plen, const char **why);
 *	void	tp_ip_mask(struct tp_ip *ip, unsigned plen);
 *	const char *tp_ip_format(const struct tp_ip *ip, char *buf,
 *				 size_t len);
 * DESCRIPTION
 *	tp_ip_parse() reads an address as MTAs write them: plain IPv4 or
 *	IPv6, optionally in brackets, IPv6 optionally with Sendmail's
 *	"IPv6:" prefix. An IPv4-mapped IPv6 address (::ffff:192.0.2.1) is
 *	stored as IPv4, so it matches IPv4 rules. Returns 0 or -1.
 *
 *	tp_prefix_parse() reads ADDRESS or ADDRESS/PREFIX for a policy
 *	rule and refuses host bits set beyond the prefix (a likely typo).
 *	An address alone is a host route (/32 or /128).
 */

#include <stddef.h>
#include <stdint.h>

struct tp_ip {
	uint8_t family;			/* 4 or 6 */
	uint8_t bytes[16];		/* network order; IPv4 uses 4 */
};

#define TP_IP_TEXT_MAX	64

extern int tp_ip_parse(const char *, struct tp_ip *);
extern int tp_prefix_parse(const char *, struct tp_ip *, unsigned *,
			   const char **);
extern void tp_ip_mask(struct tp_ip *, unsigned);
extern const char *tp_ip_format(const struct tp_ip *, char *, size_t);

#endif
