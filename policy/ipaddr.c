/*
 * NAME
 *	ipaddr 3
 * SUMMARY
 *	IPv4 and IPv6 addresses and prefixes
 * DESCRIPTION
 *	See tp_ipaddr.h.
 */

#include <arpa/inet.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "policy/tp_ipaddr.h"

static const uint8_t v4mapped[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};

/* parse_plain - inet_pton for either family, unmapping IPv4-mapped IPv6 */

static int
parse_plain(const char *text, struct tp_ip *ip)
{
	memset(ip, 0, sizeof(*ip));
	if (strchr(text, ':') == NULL) {
		ip->family = 4;
		return (inet_pton(AF_INET, text, ip->bytes) == 1 ? 0 : -1);
	}
	if (inet_pton(AF_INET6, text, ip->bytes) != 1)
		return (-1);
	if (memcmp(ip->bytes, v4mapped, sizeof(v4mapped)) == 0) {
		memmove(ip->bytes, ip->bytes + 12, 4);
		memset(ip->bytes + 4, 0, 12);
		ip->family = 4;
	} else
		ip->family = 6;
	return (0);
}

/* tp_ip_parse - an address as an MTA writes it */

int
tp_ip_parse(const char *text, struct tp_ip *ip)
{
	char	buf[TP_IP_TEXT_MAX];
	size_t	len = strlen(text);

	if (len >= 2 && text[0] == '[' && text[len - 1] == ']') {
		text++;
		len -= 2;
	}
	if (len >= 5 && strncasecmp(text, "IPv6:", 5) == 0) {
		text += 5;
		len -= 5;
	}
	if (len >= sizeof(buf))
		return (-1);
	memcpy(buf, text, len);
	buf[len] = 0;
	return (parse_plain(buf, ip));
}

/* tp_ip_mask - clear every bit after the first plen */

void
tp_ip_mask(struct tp_ip *ip, unsigned plen)
{
	unsigned size = ip->family == 4 ? 4 : 16;
	unsigned full = plen / 8;

	if (full >= size)
		return;
	if (plen % 8)
		ip->bytes[full++] &= (uint8_t)(0xff << (8 - plen % 8));
	memset(ip->bytes + full, 0, size - full);
}

/* tp_prefix_parse - ADDRESS[/PREFIX] of a client: rule */

int
tp_prefix_parse(const char *text, struct tp_ip *ip, unsigned *plen,
		const char **why)
{
	char	buf[TP_IP_TEXT_MAX];
	const char *slash = strchr(text, '/');
	size_t	alen = slash ? (size_t)(slash - text) : strlen(text);
	unsigned max;
	struct tp_ip masked;

	if (alen >= sizeof(buf)) {
		*why = "address too long";
		return (-1);
	}
	memcpy(buf, text, alen);
	buf[alen] = 0;
	if (parse_plain(buf, ip) < 0) {
		*why = "not an IPv4 or IPv6 address";
		return (-1);
	}
	/* A mapped address was written as IPv6: its prefix counts 128 bits. */
	max = strchr(buf, ':') ? 128 : 32;
	if (slash == NULL) {
		*plen = max;
	} else {
		char   *end;
		unsigned long n;

		if (slash[1] < '0' || slash[1] > '9') {
			*why = "prefix length is not a number";
			return (-1);
		}
		n = strtoul(slash + 1, &end, 10);
		if (*end != 0 || n > max) {
			*why = max == 32 ? "prefix length must be 0 to 32"
			    : "prefix length must be 0 to 128";
			return (-1);
		}
		*plen = (unsigned)n;
	}
	if (max == 128 && ip->family == 4) {
		if (*plen < 96) {
			*why = "IPv4-mapped prefix shorter than /96";
			return (-1);
		}
		*plen -= 96;
	}
	masked = *ip;
	tp_ip_mask(&masked, *plen);
	if (memcmp(&masked, ip, sizeof(masked)) != 0) {
		*why = "address has bits set after the prefix length";
		return (-1);
	}
	return (0);
}

/* tp_ip_format - text form of an address */

const char *
tp_ip_format(const struct tp_ip *ip, char *buf, size_t len)
{
	if (inet_ntop(ip->family == 4 ? AF_INET : AF_INET6, ip->bytes, buf,
		      (socklen_t)len) == NULL)
		return ("?");
	return (buf);
}
