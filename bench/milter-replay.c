/*
 * NAME
 *	milter-replay 1
 * SUMMARY
 *	replay one recorded MTA-to-milter session against a milter, N times
 * SYNOPSIS
 *	milter-replay -s unix:/PATH|inet:HOST:PORT -f STREAM [-n N] [-c C]
 * DESCRIPTION
 *	A milter-only load driver, for measuring a milter's CPU time per
 *	message without an MTA, an SMTP client and a sink sharing the CPUs
 *	(bench/run-postfix-bench.sh measures those; this isolates the
 *	milter). STREAM is the byte stream Postfix sent to a milter for one
 *	connection, as recorded by bench/milter-count.py --record.
 *
 *	Each of N connections (C at a time) sends the recorded packets the
 *	way Postfix does: packets the MTA does not wait on are buffered and
 *	go out in the same write as the next packet it waits on (Postfix's
 *	VSTREAM is flushed when it reads a reply); the stream is also
 *	flushed after the DATA stage, where smtpd hands the milter
 *	connection over to cleanup. Whether the MTA waits on a packet is
 *	decided as Postfix does, from the protocol flags in the milter's
 *	negotiation reply (SMFIP_NR_* no-reply flags; 'O' and 'E' always;
 *	'D' macros, 'A' abort and 'Q' quit never). After such a packet it
 *	reads the milter's packets until a final response (modification
 *	actions and progress are not final).
 *
 *	It prints "connections=N errors=E seconds=S rate=R"; the exit
 *	status is 1 if any connection failed. Measure the milter's CPU
 *	time from /proc/PID/stat around the run.
 * BUILD
 *	cc -O2 -o milter-replay milter-replay.c -pthread
 */

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

struct packet {
	const unsigned char *p;		/* length prefix + command + data */
	size_t	len;
	unsigned char cmd;
	unsigned char stage;		/* 'D' packets: the macro stage */
};

static struct packet *packets;
static size_t npackets;
static struct sockaddr_storage addr;
static socklen_t addrlen;
static long n_conn = 1000;
static int conc = 20;
static atomic_long next_conn, errors;
static atomic_int printed;

static void
fail(long conn, const char *what)
{
	if (atomic_fetch_add(&printed, 1) < 5)
		fprintf(stderr, "milter-replay: connection %ld: %s\n", conn, what);
}

static int
write_all(int fd, const unsigned char *p, size_t len)
{
	while (len > 0) {
		ssize_t	w = write(fd, p, len);

		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			return (-1);
		p += w;
		len -= (size_t)w;
	}
	return (0);
}

static int
read_all(int fd, unsigned char *p, size_t len)
{
	while (len > 0) {
		ssize_t	r = read(fd, p, len);

		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			return (-1);
		p += r;
		len -= (size_t)r;
	}
	return (0);
}

/* read_final - read milter packets until a final response; its command */

static int
read_final(int fd, uint32_t *proto)
{
	static const char finals[] = "Oacdrtysf4";
	unsigned char hdr[5], data[65536];

	for (;;) {
		uint32_t len;

		if (read_all(fd, hdr, 5) < 0)
			return (-1);
		memcpy(&len, hdr, 4);
		len = ntohl(len);
		if (len < 1 || len - 1 > sizeof(data) || read_all(fd, data, len - 1) < 0)
			return (-1);
		if (hdr[4] == 'O' && len - 1 >= 12) {
			memcpy(proto, data + 8, 4);
			*proto = ntohl(*proto);
		}
		if (strchr(finals, hdr[4]) != NULL)
			return (hdr[4]);
	}
}

static int
needs_reply(unsigned char cmd, uint32_t proto)
{
	switch (cmd) {
	case 'O': case 'E': return (1);
	case 'D': case 'A': case 'Q': case 'K': return (0);
	case 'C': return (!(proto & 0x1000));
	case 'H': return (!(proto & 0x2000));
	case 'M': return (!(proto & 0x4000));
	case 'R': return (!(proto & 0x8000));
	case 'T': return (!(proto & 0x10000));
	case 'U': return (!(proto & 0x20000));
	case 'N': return (!(proto & 0x40000));
	case 'B': return (!(proto & 0x80000));
	case 'L': return (!(proto & 0x80));
	default: return (1);
	}
}

static int
one_connection(long conn, unsigned char *buf, size_t bufcap)
{
	int	fd = socket(addr.ss_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
	uint32_t proto = 0;
	size_t	used = 0;

	if (fd < 0 || connect(fd, (struct sockaddr *)&addr, addrlen) < 0) {
		char	why[128];

		snprintf(why, sizeof(why), "cannot connect: %s", strerror(errno));
		fail(conn, why);
		if (fd >= 0)
			close(fd);
		return (-1);
	}
	for (size_t i = 0; i < npackets; i++) {
		const struct packet *k = &packets[i];
		int	wait = needs_reply(k->cmd, proto);
		int	flush = wait || i + 1 == npackets
		|| (k->cmd == 'D' && k->stage == 'T' && packets[i + 1].cmd != 'T')
		|| k->cmd == 'T';

		if (used + k->len > bufcap) {
			fail(conn, "packet too large");
			close(fd);
			return (-1);
		}
		memcpy(buf + used, k->p, k->len);
		used += k->len;
		if (!flush)
			continue;
		if (write_all(fd, buf, used) < 0) {
			fail(conn, "write failed");
			close(fd);
			return (-1);
		}
		used = 0;
		if (wait && read_final(fd, &proto) < 0) {
			fail(conn, "no reply from the milter");
			close(fd);
			return (-1);
		}
	}
	close(fd);
	return (0);
}

static void *
worker(void *arg)
{
	size_t	cap = 1 << 20;
	unsigned char *buf = malloc(cap);

	(void)arg;
	for (;;) {
		long	c = atomic_fetch_add(&next_conn, 1);

		if (c >= n_conn)
			break;
		if (one_connection(c, buf, cap) < 0)
			atomic_fetch_add(&errors, 1);
	}
	free(buf);
	return (NULL);
}

static int
parse_target(const char *spec)
{
	memset(&addr, 0, sizeof(addr));
	if (strncmp(spec, "unix:", 5) == 0) {
		struct sockaddr_un *u = (struct sockaddr_un *)&addr;

		u->sun_family = AF_UNIX;
		if (strlen(spec + 5) >= sizeof(u->sun_path))
			return (-1);
		strcpy(u->sun_path, spec + 5);
		addrlen = sizeof(*u);
		return (0);
	}
	if (strncmp(spec, "inet:", 5) == 0) {
		struct sockaddr_in *in = (struct sockaddr_in *)&addr;
		char	host[64];
		const char *colon = strrchr(spec + 5, ':');

		if (colon == NULL || (size_t)(colon - spec - 5) >= sizeof(host))
			return (-1);
		memcpy(host, spec + 5, (size_t)(colon - spec - 5));
		host[colon - spec - 5] = 0;
		in->sin_family = AF_INET;
		in->sin_port = htons((unsigned short)atoi(colon + 1));
		if (inet_pton(AF_INET, host, &in->sin_addr) != 1)
			return (-1);
		addrlen = sizeof(*in);
		return (0);
	}
	return (-1);
}

int
main(int argc, char **argv)
{
	const char *target = NULL, *file = NULL;
	unsigned char *stream;
	size_t	size = 0, cap = 1 << 16;
	struct timespec t0, t1;
	pthread_t *th;
	FILE   *fp;
	double	secs;
	int	ch;

	while ((ch = getopt(argc, argv, "s:f:n:c:")) != -1) {
		switch (ch) {
		case 's': target = optarg; break;
		case 'f': file = optarg; break;
		case 'n': n_conn = atol(optarg); break;
		case 'c': conc = atoi(optarg); break;
		default: goto usage;
		}
	}
	if (target == NULL || file == NULL || n_conn < 1 || conc < 1 || parse_target(target) < 0) {
usage:
		fprintf(stderr, "usage: milter-replay -s unix:/PATH|inet:HOST:PORT -f STREAM [-n N] [-c C]\n");
		return (2);
	}
	if ((fp = fopen(file, "rb")) == NULL || (stream = malloc(cap)) == NULL) {
		perror(file);
		return (2);
	}
	for (size_t r; (r = fread(stream + size, 1, cap - size, fp)) > 0;) {
		size += r;
		if (size == cap && (stream = realloc(stream, cap *= 2)) == NULL)
			return (2);
	}
	fclose(fp);
	/* split into packets */
	packets = calloc(size / 5 + 1, sizeof(*packets));
	for (size_t off = 0; off + 5 <= size;) {
		uint32_t len;

		memcpy(&len, stream + off, 4);
		len = ntohl(len);
		if (len < 1 || off + 4 + len > size) {
			fprintf(stderr, "milter-replay: %s: truncated packet at byte %zu\n", file, off);
			return (2);
		}
		packets[npackets].p = stream + off;
		packets[npackets].len = 4 + len;
		packets[npackets].cmd = stream[off + 4];
		packets[npackets].stage = len >= 2 ? stream[off + 5] : 0;
		npackets++;
		off += 4 + len;
	}
	if (npackets == 0 || packets[0].cmd != 'O') {
		fprintf(stderr, "milter-replay: %s does not start with a negotiation\n", file);
		return (2);
	}
	signal(SIGPIPE, SIG_IGN);
	if (conc > n_conn)
		conc = (int)n_conn;
	th = calloc((size_t)conc, sizeof(*th));
	clock_gettime(CLOCK_MONOTONIC, &t0);
	for (int i = 0; i < conc; i++)
		pthread_create(&th[i], NULL, worker, NULL);
	for (int i = 0; i < conc; i++)
		pthread_join(th[i], NULL);
	clock_gettime(CLOCK_MONOTONIC, &t1);
	secs = (double)(t1.tv_sec - t0.tv_sec) + (t1.tv_nsec - t0.tv_nsec) / 1e9;
	printf("connections=%ld packets=%zu errors=%ld seconds=%.3f rate=%.1f\n", n_conn, npackets,
	       atomic_load(&errors), secs, n_conn / secs);
	free(th);
	free(packets);
	free(stream);
	return (atomic_load(&errors) ? 1 : 0);
}
