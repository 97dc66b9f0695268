/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * boot-storm: N diskless clients booting at once (issue 9, boot-storm.sh).
 *
 * One process, one thread, one libiscsi context per client (one TCP
 * connection, one session) on libiscsi's asynchronous API: every login is
 * started before the first completes, so the target sees N logins at once.
 * Client n (from --start) logs in to the target named by --target with
 * "{n}" replaced by n as hatgtadm clone writes it (at least 4 digits), as
 * the initiator named by --initiator the same way, then
 *  1. reads a boot set: --pattern full reads the whole LUN sequentially;
 *     --pattern boot (the default) reads the first --seq-mib MiB
 *     sequentially, then --scattered 4 KiB reads spread over the LUN (the
 *     same LBAs for every client, as every client boots the same files);
 *  2. writes --write-mib MiB of its own data at --write-offset-mib, every
 *     byte (n % 251) + 1, which qemu-io -c "read -P" can check later;
 * with --qd commands outstanding, then logs out. The writes are spread
 * evenly among the reads, as a booting system writes logs while it reads,
 * so a SIGKILL of the daemon at any moment interrupts writes.
 *
 * Output: a human summary on stderr and one machine line on stdout:
 *   boot-storm: clients=N ok=N errors=E total_s=T login_p50_ms=.. p50_s=.. p99_s=..
 * A client's completion time runs from the start of the storm to the end of
 * its last write. Exit status: 0 every client finished without error,
 * 1 some client failed (errors > 0), 2 usage.
 */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <poll.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>

#include <iscsi/iscsi.h>
#include <iscsi/scsi-lowlevel.h>

#define STORM_SEQ_IO (64 * 1024)
#define STORM_SCATTER_IO 4096
#define STORM_WRITE_IO (64 * 1024)
#define STORM_MAX_CLIENTS 65536
#define STORM_NAME_MAX 256
#define NSEC_PER_SEC INT64_C(1000000000)

enum storm_pattern { STORM_BOOT = 0, STORM_FULL };

struct storm_opts {
	const char *portal;
	const char *target;
	const char *initiator;
	unsigned int clients;
	unsigned int start;
	unsigned int qd;
	enum storm_pattern pattern;
	uint64_t seq_bytes;
	unsigned int scattered;
	uint64_t write_bytes;
	uint64_t write_off;
	double timeout;
};

enum storm_state { CL_LOGIN = 0, CL_READCAP, CL_IO, CL_LOGOUT, CL_DONE, CL_FAILED };

struct storm_run;

struct storm_client {
	struct storm_run *run;
	struct iscsi_context *iscsi;
	unsigned int n;
	enum storm_state state;
	uint32_t block_len;
	uint64_t blocks;
	uint64_t nseq, nscat, nwrite; /* commands in each phase */
	uint64_t next, inflight, done;
	uint64_t rnext, wnext; /* reads and writes submitted */
	uint8_t *wbuf;
	int64_t t_login;
	int64_t t_done;
	char why[160];
};

struct storm_run {
	struct storm_opts o;
	struct storm_client *cl;
	int64_t t0;
	uint64_t bytes_read, bytes_written;
};

static int64_t storm_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * NSEC_PER_SEC + ts.tv_nsec;
}

/* Replace every "{n}" in pattern by n (at least 4 digits). \return 0 or -1. */
static int storm_name_expand(const char *pattern, unsigned int n, char *out, size_t outlen)
{
	char num[16];
	size_t len = 0, k;
	const char *p;

	snprintf(num, sizeof(num), "%04u", n);
	for (p = pattern; *p;) {
		if (!strncmp(p, "{n}", 3)) {
			k = strlen(num);
			if (len + k >= outlen)
				return -1;
			memcpy(out + len, num, k);
			len += k;
			p += 3;
		} else {
			if (len + 1 >= outlen)
				return -1;
			out[len++] = *p++;
		}
	}
	out[len] = '\0';
	return 0;
}

static void storm_client_fail(struct storm_client *c, const char *what, const char *detail)
{
	if (c->state == CL_FAILED)
		return;
	snprintf(c->why, sizeof(c->why), "%s: %s", what, detail ? detail : "failed");
	c->state = CL_FAILED;
	c->t_done = storm_now();
}

/* The same scattered LBAs for every client: a boot reads the same files. */
static uint64_t storm_scatter_lba(const struct storm_client *c, uint64_t i)
{
	uint64_t x = (i + 1) * UINT64_C(0x9e3779b97f4a7c15);
	uint64_t per = STORM_SCATTER_IO / c->block_len;

	x ^= x >> 31;
	x *= UINT64_C(0xbf58476d1ce4e5b9);
	x ^= x >> 27;
	return (x % (c->blocks / per)) * per;
}

static void storm_io_cb(struct iscsi_context *iscsi, int status, void *data, void *priv);

/* Submit the next command of client c. \return 0, 1 nothing left, -1 error. */
static int storm_io_next(struct storm_client *c)
{
	struct storm_run *r = c->run;
	uint64_t total = c->nseq + c->nscat + c->nwrite;
	struct scsi_task *task;
	uint64_t i, lba, off;
	uint32_t len;

	if (c->next == total)
		return 1;
	/* Command number next is a write when the share of writes among the
	 * first next + 1 commands reaches the next whole write. */
	if (c->wnext < c->nwrite && (c->next + 1) * c->nwrite / total > c->wnext) {
		off = r->o.write_off + c->wnext * STORM_WRITE_IO;
		task = iscsi_write16_task(c->iscsi, 0, off / c->block_len, c->wbuf, STORM_WRITE_IO,
					  (int)c->block_len, 0, 0, 0, 0, 0, storm_io_cb, c);
		if (task)
			c->wnext++;
		goto out;
	}
	i = c->rnext;
	if (i < c->nseq) {
		off = i * STORM_SEQ_IO;
		len = (uint32_t)(r->o.seq_bytes - off < STORM_SEQ_IO ? r->o.seq_bytes - off
								     : STORM_SEQ_IO);
		task = iscsi_read16_task(c->iscsi, 0, off / c->block_len, len, (int)c->block_len, 0,
					 0, 0, 0, 0, storm_io_cb, c);
	} else if (i < c->nseq + c->nscat) {
		lba = storm_scatter_lba(c, i - c->nseq);
		len = STORM_SCATTER_IO;
		task = iscsi_read16_task(c->iscsi, 0, lba, len, (int)c->block_len, 0, 0, 0, 0, 0,
					 storm_io_cb, c);
	} else {
		return 1;
	}
	if (task)
		c->rnext++;
out:
	if (!task) {
		storm_client_fail(c, "submit", iscsi_get_error(c->iscsi));
		return -1;
	}
	c->next++;
	c->inflight++;
	return 0;
}

static void storm_logout_cb(struct iscsi_context *iscsi, int status, void *data, void *priv)
{
	struct storm_client *c = priv;

	(void)iscsi;
	(void)data;
	(void)status; /* the work is done: a failed logout does not undo it */
	if (c->state == CL_LOGOUT)
		c->state = CL_DONE;
}

static void storm_io_fill(struct storm_client *c)
{
	while (c->state == CL_IO && c->inflight < c->run->o.qd)
		if (storm_io_next(c))
			break;
	if (c->state == CL_IO && c->inflight == 0 && c->done == c->nseq + c->nscat + c->nwrite) {
		c->t_done = storm_now();
		c->state = CL_LOGOUT;
		if (iscsi_logout_async(c->iscsi, storm_logout_cb, c) != 0)
			c->state = CL_DONE;
	}
}

static void storm_io_cb(struct iscsi_context *iscsi, int status, void *data, void *priv)
{
	struct storm_client *c = priv;
	struct scsi_task *task = data;

	(void)iscsi;
	c->inflight--;
	if (status != SCSI_STATUS_GOOD) {
		storm_client_fail(c, "I/O", iscsi_get_error(c->iscsi));
	} else {
		c->done++;
		if (task->xfer_dir == SCSI_XFER_READ)
			c->run->bytes_read += (uint64_t)task->datain.size;
		else
			c->run->bytes_written += STORM_WRITE_IO;
	}
	if (task)
		scsi_free_scsi_task(task);
	storm_io_fill(c);
}

static void storm_readcap_cb(struct iscsi_context *iscsi, int status, void *data, void *priv)
{
	struct storm_client *c = priv;
	struct storm_run *r = c->run;
	struct scsi_task *task = data;
	struct scsi_readcapacity16 *rc16;
	uint64_t size;

	(void)iscsi;
	if (status != SCSI_STATUS_GOOD || !(rc16 = scsi_datain_unmarshall(task))) {
		storm_client_fail(c, "READ CAPACITY(16)", iscsi_get_error(c->iscsi));
		goto out;
	}
	c->block_len = rc16->block_length;
	c->blocks = rc16->returned_lba + 1;
	size = c->blocks * c->block_len;
	if (!c->block_len || STORM_SCATTER_IO % c->block_len || size < STORM_SCATTER_IO ||
	    r->o.write_off + r->o.write_bytes > size || r->o.write_off % c->block_len) {
		storm_client_fail(c, "LUN", "smaller than the write region or odd block size");
		goto out;
	}
	if (r->o.pattern == STORM_FULL) {
		c->nseq = (size + STORM_SEQ_IO - 1) / STORM_SEQ_IO;
		r->o.seq_bytes = size; /* every client sees the same golden size */
		c->nscat = 0;
	} else {
		if (r->o.seq_bytes > size)
			r->o.seq_bytes = size;
		c->nseq = (r->o.seq_bytes + STORM_SEQ_IO - 1) / STORM_SEQ_IO;
		c->nscat = r->o.scattered;
	}
	c->nwrite = r->o.write_bytes / STORM_WRITE_IO;
	c->state = CL_IO;
	storm_io_fill(c);
out:
	if (task)
		scsi_free_scsi_task(task);
}

static void storm_login_cb(struct iscsi_context *iscsi, int status, void *data, void *priv)
{
	struct storm_client *c = priv;

	(void)data;
	if (status != 0) {
		storm_client_fail(c, "login", iscsi_get_error(iscsi));
		return;
	}
	c->t_login = storm_now();
	c->state = CL_READCAP;
	if (!iscsi_readcapacity16_task(iscsi, 0, storm_readcap_cb, c))
		storm_client_fail(c, "READ CAPACITY(16)", iscsi_get_error(iscsi));
}

static int storm_client_start(struct storm_run *r, struct storm_client *c, unsigned int n)
{
	char target[STORM_NAME_MAX], initiator[STORM_NAME_MAX];

	c->run = r;
	c->n = n;
	if (storm_name_expand(r->o.target, n, target, sizeof(target)) ||
	    storm_name_expand(r->o.initiator, n, initiator, sizeof(initiator))) {
		storm_client_fail(c, "names", "too long");
		return -1;
	}
	c->wbuf = malloc(STORM_WRITE_IO);
	c->iscsi = iscsi_create_context(initiator);
	if (!c->wbuf || !c->iscsi) {
		storm_client_fail(c, "set-up", "out of memory");
		return -1;
	}
	memset(c->wbuf, (int)(n % 251) + 1, STORM_WRITE_IO);
	iscsi_set_noautoreconnect(c->iscsi, 1);
	iscsi_set_session_type(c->iscsi, ISCSI_SESSION_NORMAL);
	iscsi_set_header_digest(c->iscsi, ISCSI_HEADER_DIGEST_NONE);
	if (iscsi_set_targetname(c->iscsi, target) ||
	    iscsi_full_connect_async(c->iscsi, r->o.portal, 0, storm_login_cb, c)) {
		storm_client_fail(c, "connect", iscsi_get_error(c->iscsi));
		return -1;
	}
	return 0;
}

static bool storm_client_active(const struct storm_client *c)
{
	return c->state != CL_DONE && c->state != CL_FAILED;
}

/* Poll every active context until all are done or the deadline passes. */
static void storm_loop(struct storm_run *r)
{
	unsigned int i, nactive, N = r->o.clients;
	struct pollfd *pfd = calloc(N, sizeof(*pfd));
	int64_t deadline = r->t0 + (int64_t)(r->o.timeout * NSEC_PER_SEC);

	if (!pfd)
		return;
	for (;;) {
		nactive = 0;
		for (i = 0; i < N; i++) {
			struct storm_client *c = &r->cl[i];

			pfd[i].fd = -1;
			pfd[i].revents = 0;
			if (!storm_client_active(c))
				continue;
			pfd[i].fd = iscsi_get_fd(c->iscsi);
			pfd[i].events = (short)iscsi_which_events(c->iscsi);
			nactive++;
		}
		if (!nactive)
			break;
		if (storm_now() > deadline) {
			for (i = 0; i < N; i++)
				if (storm_client_active(&r->cl[i]))
					storm_client_fail(&r->cl[i], "timeout", "did not finish");
			break;
		}
		if (poll(pfd, N, 100) < 0 && errno != EINTR)
			break;
		for (i = 0; i < N; i++) {
			struct storm_client *c = &r->cl[i];

			if (pfd[i].fd < 0 || !storm_client_active(c))
				continue;
			if (iscsi_service(c->iscsi, pfd[i].revents) < 0)
				storm_client_fail(c, "connection", iscsi_get_error(c->iscsi));
		}
	}
	free(pfd);
}

static int storm_cmp_i64(const void *a, const void *b)
{
	int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;

	return (x > y) - (x < y);
}

/* Nearest-rank percentile of a sorted array. */
static double storm_pct(const int64_t *v, size_t n, double pct)
{
	size_t k;

	if (!n)
		return 0;
	k = (size_t)(pct / 100.0 * (double)n + 0.999999);
	if (k < 1)
		k = 1;
	if (k > n)
		k = n;
	return (double)v[k - 1] / 1e9;
}

static int storm_report(struct storm_run *r)
{
	unsigned int i, N = r->o.clients, ok = 0, errors = 0, shown = 0;
	int64_t *done = calloc(N, sizeof(*done)), *login = calloc(N, sizeof(*login));
	size_t nd = 0, nl = 0;
	double total = (double)(storm_now() - r->t0) / 1e9;

	if (!done || !login) {
		free(done);
		free(login);
		fprintf(stderr, "boot-storm: out of memory\n");
		return 1;
	}
	for (i = 0; i < N; i++) {
		struct storm_client *c = &r->cl[i];

		if (c->t_login)
			login[nl++] = c->t_login - r->t0;
		if (c->state == CL_DONE) {
			ok++;
			done[nd++] = c->t_done - r->t0;
		} else {
			errors++;
			if (shown++ < 10)
				fprintf(stderr, "boot-storm: client %04u: %s\n", c->n,
					c->why[0] ? c->why : "unfinished");
		}
	}
	qsort(done, nd, sizeof(*done), storm_cmp_i64);
	qsort(login, nl, sizeof(*login), storm_cmp_i64);
	if (nd)
		total = (double)done[nd - 1] / 1e9;
	fprintf(stderr,
		"boot-storm: %u clients, %u ok, %u errors, %.2f s; logins p50 %.3f s p99 %.3f s; "
		"per-client completion p50 %.2f s p99 %.2f s max %.2f s; read %.1f MiB, "
		"written %.1f MiB (%.1f MiB/s)\n",
		N, ok, errors, total, storm_pct(login, nl, 50), storm_pct(login, nl, 99),
		storm_pct(done, nd, 50), storm_pct(done, nd, 99), storm_pct(done, nd, 100),
		(double)r->bytes_read / 1048576.0, (double)r->bytes_written / 1048576.0,
		total > 0 ? (double)(r->bytes_read + r->bytes_written) / 1048576.0 / total : 0.0);
	printf("boot-storm: clients=%u ok=%u errors=%u total_s=%.3f login_p50_s=%.3f "
	       "login_p99_s=%.3f p50_s=%.3f p99_s=%.3f max_s=%.3f read_mib=%.1f written_mib=%.1f\n",
	       N, ok, errors, total, storm_pct(login, nl, 50), storm_pct(login, nl, 99),
	       storm_pct(done, nd, 50), storm_pct(done, nd, 99), storm_pct(done, nd, 100),
	       (double)r->bytes_read / 1048576.0, (double)r->bytes_written / 1048576.0);
	fflush(stdout);
	free(done);
	free(login);
	return errors ? 1 : 0;
}

static void storm_usage(FILE *f)
{
	fprintf(f, "Usage: boot-storm --portal HOST:PORT --target PATTERN --initiator PATTERN\n"
		   "                  [--clients N] [--start N] [--qd N] [--pattern boot|full]\n"
		   "                  [--seq-mib N] [--scattered N] [--write-mib N]\n"
		   "                  [--write-offset-mib N] [--timeout SEC]\n"
		   "PATTERN: an iSCSI name with {n} for the client number (0001, 0002...).\n"
		   "Defaults: 64 clients from 1, qd 4, boot pattern of 64 MiB sequential plus\n"
		   "1024 scattered 4 KiB reads, 4 MiB written at 256 MiB, timeout 600 s.\n");
}

static int storm_num(const char *s, unsigned long max, unsigned long *out)
{
	unsigned long v;
	char *end;

	if (*s < '0' || *s > '9')
		return -1;
	errno = 0;
	v = strtoul(s, &end, 10);
	if (errno || *end || v > max)
		return -1;
	*out = v;
	return 0;
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{"portal", required_argument, NULL, 'p'},
		{"target", required_argument, NULL, 't'},
		{"initiator", required_argument, NULL, 'i'},
		{"clients", required_argument, NULL, 'n'},
		{"start", required_argument, NULL, 's'},
		{"qd", required_argument, NULL, 'q'},
		{"pattern", required_argument, NULL, 'P'},
		{"seq-mib", required_argument, NULL, 'S'},
		{"scattered", required_argument, NULL, 'R'},
		{"write-mib", required_argument, NULL, 'W'},
		{"write-offset-mib", required_argument, NULL, 'O'},
		{"timeout", required_argument, NULL, 'T'},
		{"help", no_argument, NULL, 'h'},
		{NULL, 0, NULL, 0},
	};
	struct storm_run r;
	struct rlimit rl;
	unsigned long v;
	unsigned int i;
	int c, rc;

	memset(&r, 0, sizeof(r));
	r.o.clients = 64;
	r.o.start = 1;
	r.o.qd = 4;
	r.o.seq_bytes = 64ULL << 20;
	r.o.scattered = 1024;
	r.o.write_bytes = 4ULL << 20;
	r.o.write_off = 256ULL << 20;
	r.o.timeout = 600;
	while ((c = getopt_long(argc, argv, "p:t:i:n:s:q:P:S:R:W:O:T:h", opts, NULL)) != -1) {
		switch (c) {
		case 'p':
			r.o.portal = optarg;
			break;
		case 't':
			r.o.target = optarg;
			break;
		case 'i':
			r.o.initiator = optarg;
			break;
		case 'P':
			if (!strcmp(optarg, "boot"))
				r.o.pattern = STORM_BOOT;
			else if (!strcmp(optarg, "full"))
				r.o.pattern = STORM_FULL;
			else
				goto usage;
			break;
		case 'h':
			storm_usage(stdout);
			return 0;
		case 'n':
		case 's':
		case 'q':
		case 'S':
		case 'R':
		case 'W':
		case 'O':
		case 'T':
			if (storm_num(optarg, 1UL << 30, &v))
				goto usage;
			if (c == 'n')
				r.o.clients = (unsigned int)v;
			else if (c == 's')
				r.o.start = (unsigned int)v;
			else if (c == 'q')
				r.o.qd = (unsigned int)v;
			else if (c == 'S')
				r.o.seq_bytes = (uint64_t)v << 20;
			else if (c == 'R')
				r.o.scattered = (unsigned int)v;
			else if (c == 'W')
				r.o.write_bytes = (uint64_t)v << 20;
			else if (c == 'O')
				r.o.write_off = (uint64_t)v << 20;
			else
				r.o.timeout = (double)v;
			break;
		default:
			goto usage;
		}
	}
	if (optind != argc || !r.o.portal || !r.o.target || !r.o.initiator || !r.o.clients ||
	    r.o.clients > STORM_MAX_CLIENTS || !r.o.qd || !r.o.timeout)
		goto usage;
	/* One socket per client. */
	if (!getrlimit(RLIMIT_NOFILE, &rl) && rl.rlim_cur < rl.rlim_max) {
		rl.rlim_cur = rl.rlim_max;
		setrlimit(RLIMIT_NOFILE, &rl);
	}
	r.cl = calloc(r.o.clients, sizeof(*r.cl));
	if (!r.cl) {
		fprintf(stderr, "boot-storm: out of memory\n");
		return 1;
	}
	r.t0 = storm_now();
	for (i = 0; i < r.o.clients; i++)
		storm_client_start(&r, &r.cl[i], r.o.start + i);
	storm_loop(&r);
	rc = storm_report(&r);
	for (i = 0; i < r.o.clients; i++) {
		if (r.cl[i].iscsi)
			iscsi_destroy_context(r.cl[i].iscsi);
		free(r.cl[i].wbuf);
	}
	free(r.cl);
	return rc;
usage:
	storm_usage(stderr);
	return 2;
}
