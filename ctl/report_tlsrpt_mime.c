/*
 * NAME
 *	report_tlsrpt_mime 3
 * SUMMARY
 *	tlspolicyctl report --tlsrpt: a file's bytes to a report's JSON
 * SYNOPSIS
 *	#include "ctl/report_tlsrpt_impl.h"
 *
 *	int	tp_tlsrpt_unpack(const char *buf, size_t len, char **out,
 *				 size_t *outlen, char *why, size_t whylen);
 * DESCRIPTION
 *	A report arrives as JSON ("{" first, after white space), gzip
 *	(1f 8b first: zlib unpacks it, at most TP_TLSRPT_JSON_MAX bytes),
 *	or a mail message: GMime parses it, and the first part that looks
 *	like a report (tp_tlsrpt(3h)) is decoded (base64,
 *	quoted-printable) and unpacked again, as JSON or gzip only.
 *	GMime is initialised once per process, and never shut down: its
 *	tables live as long as the program.
 * DIAGNOSTICS
 *	-1 with a sentence in why: "gzip: ...", "unpacks to more than N
 *	bytes: too big", "no TLSRPT report attached (not JSON, gzip, or a
 *	mail message with a report)".
 */

#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <gmime/gmime.h>
#include <zlib.h>

#include "ctl/report_tlsrpt_impl.h"

#define GZIP_MAGIC(b, n) ((n) >= 2 && (unsigned char)(b)[0] == 0x1f \
			  && (unsigned char)(b)[1] == 0x8b)

static pthread_once_t mime_once = PTHREAD_ONCE_INIT;

/* first_byte - the first byte that is not white space, or 0 */

static char
first_byte(const char *buf, size_t len)
{
	for (size_t i = 0; i < len; i++)
		if (buf[i] != ' ' && buf[i] != '\t' && buf[i] != '\r' && buf[i] != '\n')
			return (buf[i]);
	return (0);
}

/* gunzip - a gzip stream, unpacked to at most TP_TLSRPT_JSON_MAX bytes */

static int
gunzip(const char *buf, size_t len, char **out, size_t *outlen, char *why, size_t whylen)
{
	z_stream z;
	size_t	size = 64 * 1024;
	char   *dst = malloc(size), *bigger;
	int	zrc = Z_OK, rc = -1;

	memset(&z, 0, sizeof(z));
	if (dst == NULL || inflateInit2(&z, 16 + MAX_WBITS) != Z_OK) {
		snprintf(why, whylen, "out of memory");
		free(dst);
		return (-1);
	}
	z.next_in = (Bytef *)(uintptr_t)buf;
	z.avail_in = (uInt)len;
	/* The buffer grows as the text does: most reports are a few KB. */
	for (;;) {
		z.next_out = (Bytef *)dst + z.total_out;
		z.avail_out = (uInt)(size - z.total_out);
		zrc = inflate(&z, Z_FINISH);
		if ((zrc != Z_OK && zrc != Z_BUF_ERROR) || z.avail_out > 0
		    || size > TP_TLSRPT_JSON_MAX)
			break;
		size = size * 2 > TP_TLSRPT_JSON_MAX ? TP_TLSRPT_JSON_MAX + 1 : size * 2;
		if ((bigger = realloc(dst, size)) == NULL) {
			zrc = Z_MEM_ERROR;
			break;
		}
		dst = bigger;
	}
	if (zrc == Z_STREAM_END && z.total_out <= TP_TLSRPT_JSON_MAX) {
		*out = dst;
		*outlen = z.total_out;
		dst = NULL;
		rc = 0;
	} else if (zrc == Z_STREAM_END || ((zrc == Z_OK || zrc == Z_BUF_ERROR) && z.avail_out == 0)) {
		snprintf(why, whylen, "unpacks to more than %d bytes: too big", TP_TLSRPT_JSON_MAX);
	} else {
		snprintf(why, whylen, "gzip: %s", zrc == Z_OK || zrc == Z_BUF_ERROR
			 ? "ends early (truncated?)"
			 : zrc == Z_MEM_ERROR ? "out of memory" : z.msg ? z.msg : "damaged");
	}
	inflateEnd(&z);
	free(dst);
	return (rc);
}

/* copy_json - the JSON as it is, if it is not too big */

static int
copy_json(const char *buf, size_t len, char **out, size_t *outlen, char *why, size_t whylen)
{
	if (len > TP_TLSRPT_JSON_MAX) {
		snprintf(why, whylen, "more than %d bytes of JSON: too big", TP_TLSRPT_JSON_MAX);
		return (-1);
	}
	if ((*out = malloc(len + 1)) == NULL) {
		snprintf(why, whylen, "out of memory");
		return (-1);
	}
	memcpy(*out, buf, len);
	(*out)[len] = 0;
	*outlen = len;
	return (0);
}

/* ---- a mail message ----------------------------------------------------- */

/* What the walk over a message's parts found. */
struct found {
	GMimePart *part;		/* the report's part, or NULL */
};

/* ends_with - name ends in suffix, case aside */

static bool
ends_with(const char *name, const char *suffix)
{
	size_t	n = strlen(name), s = strlen(suffix);

	return (n >= s && strcasecmp(name + n - s, suffix) == 0);
}

/* is_report - a part that carries a TLSRPT report */

static bool
is_report(GMimePart *part)
{
	GMimeContentType *ct = g_mime_object_get_content_type(GMIME_OBJECT(part));
	const char *name = g_mime_part_get_filename(part);
	static const char *const types[] = {"tlsrpt+gzip", "tlsrpt+json", "gzip", "json",
	"x-gzip"};

	for (size_t i = 0; ct != NULL && i < sizeof(types) / sizeof(types[0]); i++)
		if (g_mime_content_type_is_type(ct, "application", types[i]))
			return (true);
	return (name != NULL && (ends_with(name, ".json") || ends_with(name, ".gz")));
}

/* visit - g_mime_message_foreach() callback: the first report part */

static void
visit(GMimeObject *parent, GMimeObject *obj, gpointer data)
{
	struct found *f = data;

	(void)parent;
	if (f->part == NULL && GMIME_IS_PART(obj) && is_report(GMIME_PART(obj)))
		f->part = GMIME_PART(obj);
}

/* decode - a part's content, transfer encoding undone, malloc'd */

static int
decode(GMimePart *part, char **out, size_t *outlen)
{
	GMimeDataWrapper *w = g_mime_part_get_content(part);
	GMimeStream *mem;
	GByteArray *bytes;
	int	rc = -1;

	if (w == NULL || (mem = g_mime_stream_mem_new()) == NULL)
		return (-1);
	if (g_mime_data_wrapper_write_to_stream(w, mem) >= 0
	    && (bytes = g_mime_stream_mem_get_byte_array(GMIME_STREAM_MEM(mem))) != NULL
	    && (*out = malloc(bytes->len + 1)) != NULL) {
		if (bytes->len > 0)		/* an empty part has no data */
			memcpy(*out, bytes->data, bytes->len);
		(*out)[bytes->len] = 0;
		*outlen = bytes->len;
		rc = 0;
	}
	g_object_unref(mem);
	return (rc);
}

/* mime_init - GMime, once */

static void
mime_init(void)
{
	g_mime_init();
}

/* attachment - the report attached to a mail message, malloc'd */

static int
attachment(const char *buf, size_t len, char **out, size_t *outlen, char *why, size_t whylen)
{
	GMimeStream *stream;
	GMimeParser *parser;
	GMimeMessage *msg = NULL;
	struct found f = {NULL};
	int	rc = -1;

	pthread_once(&mime_once, mime_init);
	if ((stream = g_mime_stream_mem_new_with_buffer(buf, len)) == NULL) {
		snprintf(why, whylen, "out of memory");
		return (-1);
	}
	if ((parser = g_mime_parser_new_with_stream(stream)) != NULL) {
		msg = g_mime_parser_construct_message(parser, NULL);
		g_object_unref(parser);
	}
	g_object_unref(stream);
	if (msg != NULL)
		g_mime_message_foreach(msg, visit, &f);
	if (f.part == NULL)
		snprintf(why, whylen, "no TLSRPT report attached (not JSON, gzip, "
			 "or a mail message with a report)");
	else if ((rc = decode(f.part, out, outlen)) < 0)
		snprintf(why, whylen, "the attached report cannot be decoded");
	if (msg != NULL)
		g_object_unref(msg);
	return (rc);
}

/* tp_tlsrpt_unpack - JSON, gzip or a mail message: the report's JSON */

int
tp_tlsrpt_unpack(const char *buf, size_t len, char **out, size_t *outlen,
		 char *why, size_t whylen)
{
	char   *inner = NULL;
	size_t	inner_len = 0;
	int	rc;

	if (GZIP_MAGIC(buf, len))
		return (gunzip(buf, len, out, outlen, why, whylen));
	if (first_byte(buf, len) == '{')
		return (copy_json(buf, len, out, outlen, why, whylen));
	if (attachment(buf, len, &inner, &inner_len, why, whylen) < 0)
		return (-1);
	if (GZIP_MAGIC(inner, inner_len))
		rc = gunzip(inner, inner_len, out, outlen, why, whylen);
	else if (first_byte(inner, inner_len) == '{')
		rc = copy_json(inner, inner_len, out, outlen, why, whylen);
	else
		rc = -1, snprintf(why, whylen, "the attached report is neither JSON nor gzip");
	free(inner);
	return (rc);
}
