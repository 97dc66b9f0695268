/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * hatgt-load: a closed-loop iSCSI load generator on libiscsi's asynchronous
 * API, for comparing hatgtd with other targets (tests/bench/compare-tgt.sh)
 * and for holding many sessions open (tests/bench/scale-sessions.sh).
 *
 * Each session has its own libiscsi context (one TCP connection, one iSCSI
 * session) and keeps --qd commands outstanding: a completion immediately
 * submits the next command. One thread polls every context.
 *
 * Output: one human line on stderr and one machine line on stdout:
 *
 *   hatgt-load: label=X sessions=1 qd=32 bs=4096 ... iops=N mbps=N lat_us_p50=N ...
 *
 * Latencies are measured per command from submission to completion and kept
 * in a log-linear histogram (16 linear steps per power of two, so a reported
 * percentile is within 1/16 of the true value). Only commands submitted after
 * the warm-up and completed before the end count.
 *
 * Data validation (--verify): every logical block written carries a magic,
 * its own LBA and a filler derived from the LBA; a block read back must be
 * such a block with the LBA read, or all zeroes (never written). Because a
 * block's contents depend only on its LBA, concurrent writes to one LBA
 * cannot make a correct target look wrong.
 *
 * Exit status: 0 success, 1 an I/O failed or data did not verify, 2 usage,
 * 3 login or set-up failed.
 */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <iscsi/iscsi.h>
#include <iscsi/scsi-lowlevel.h>

#include "util/be.h"

#define LOAD_HIST_SUB_BITS 4
#define LOAD_HIST_SUB (1u << LOAD_HIST_SUB_BITS)
#define LOAD_HIST_BUCKETS (64 * LOAD_HIST_SUB)
#define LOAD_MAGIC UINT64_C(0x6861746774424c4b) /* "hatgtBLK" */
#define NSEC_PER_SEC INT64_C(1000000000)
#define LOAD_DRAIN_NS (10 * NSEC_PER_SEC)

struct load_opts {
	const char *url;
	const char *initiator;
	const char *label;
	unsigned int sessions;
	unsigned int qd;
	uint64_t bs;
	bool random;
	unsigned int read_pct;
	double duration;
	double warmup;
	uint64_t ios;  /* per session; 0: run for duration */
	uint64_t span; /* bytes of the LUN to use; 0: all */
	bool verify;
	bool wait_signal;
	bool per_session; /* also one result line per session */
	uint64_t seed;
};

struct load_sess;
struct load_run;
struct load_stats;

struct load_slot {
	struct load_sess *sess;
	uint8_t *buf;
	/* libiscsi keeps a pointer to the iovec until the task completes. */
	struct scsi_iovec iov;
	uint64_t lba;
	bool is_read;
	int64_t t_submit;
};

struct load_sess {
	struct load_run *run;
	struct iscsi_context *iscsi;
	int lun;
	unsigned int idx;
	uint64_t rng;
	uint64_t seq_next; /* next I/O unit for sequential access */
	uint64_t submitted;
	uint64_t inflight;
	uint64_t done;
	bool failed;
	struct load_slot *slots;
	struct load_stats *st; /* -P only: this session's share of the run's stats */
};

struct load_stats {
	uint64_t hist[LOAD_HIST_BUCKETS];
	uint64_t ios;
	uint64_t ios_total; /* completed, warm-up and drain included */
	uint64_t reads;
	uint64_t writes;
	uint64_t errors;
	uint64_t verified;
	uint64_t unwritten;
	uint64_t mismatches;
	int64_t lat_min;
	int64_t lat_max;
	double lat_sum;
};

struct load_run {
	struct load_opts o;
	struct load_sess *sess;
	unsigned int nsess;
	uint32_t block_len;
	uint64_t nblocks;  /* LUN blocks used (span) */
	uint64_t units;	   /* I/O units of bs in the span */
	int64_t t_measure; /* start of the measured window */
	int64_t t_end;
	bool stopping;
	struct load_stats st;
};

static volatile sig_atomic_t load_go;
static volatile sig_atomic_t load_interrupted;

static int64_t load_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * NSEC_PER_SEC + ts.tv_nsec;
}

/* xorshift64*: fast, good enough to spread LBAs, reproducible per seed. */
static uint64_t load_rng_next(uint64_t *s)
{
	uint64_t x = *s;

	x ^= x >> 12;
	x ^= x << 25;
	x ^= x >> 27;
	*s = x;
	return x * UINT64_C(2685821657736338717);
}

/* Bucket of a latency in ns: values below 16 map to themselves, larger ones
 * to (octave, 4 leading bits below the top bit). */
static unsigned int load_hist_bucket(uint64_t v)
{
	unsigned int msb;

	if (v < LOAD_HIST_SUB)
		return (unsigned int)v;
	msb = 63u - (unsigned int)__builtin_clzll(v);
	return (msb - LOAD_HIST_SUB_BITS + 1) * LOAD_HIST_SUB +
	       (unsigned int)((v >> (msb - LOAD_HIST_SUB_BITS)) & (LOAD_HIST_SUB - 1));
}

/* Middle of a bucket's range, in ns. */
static double load_hist_value(unsigned int b)
{
	unsigned int oct, sub, shift;
	uint64_t lo;

	if (b < LOAD_HIST_SUB)
		return b;
	oct = b / LOAD_HIST_SUB;
	sub = b % LOAD_HIST_SUB;
	shift = oct - 1;
	lo = ((uint64_t)(LOAD_HIST_SUB + sub)) << shift;
	return (double)lo + (double)(UINT64_C(1) << shift) / 2.0;
}

/* Latency in µs at quantile q (0..1) of the histogram; 0 when empty. */
static double load_hist_quantile(const struct load_stats *st, double q)
{
	uint64_t want, seen = 0;
	unsigned int b;
	double v;

	if (st->ios == 0)
		return 0;
	want = (uint64_t)(q * (double)st->ios);
	if (want >= st->ios)
		want = st->ios - 1;
	for (b = 0; b < LOAD_HIST_BUCKETS; b++) {
		seen += st->hist[b];
		if (seen > want)
			break;
	}
	/* A bucket's middle may lie outside what was seen: clamp it. */
	v = b < LOAD_HIST_BUCKETS ? load_hist_value(b) : (double)st->lat_max;
	if (v > (double)st->lat_max)
		v = (double)st->lat_max;
	if (v < (double)st->lat_min)
		v = (double)st->lat_min;
	return v / 1000.0;
}

/* Count one measured command of \p lat ns. */
static void load_stats_add(struct load_stats *st, int64_t lat, bool is_read)
{
	st->hist[load_hist_bucket((uint64_t)lat)]++;
	st->ios++;
	if (is_read)
		st->reads++;
	else
		st->writes++;
	st->lat_sum += (double)lat;
	if (st->lat_min == 0 || lat < st->lat_min)
		st->lat_min = lat;
	if (lat > st->lat_max)
		st->lat_max = lat;
}

static void load_pattern_fill(uint8_t *buf, uint64_t lba, uint32_t nblocks, uint32_t block_len)
{
	uint32_t i, off;

	for (i = 0; i < nblocks; i++) {
		uint8_t *blk = buf + (size_t)i * block_len;
		uint64_t cur = lba + i;

		put_be64(blk, LOAD_MAGIC);
		put_be64(blk + 8, cur);
		for (off = 16; off < block_len; off++)
			blk[off] = (uint8_t)(cur * 131u + off);
	}
}

/* Check each block of a read: 0 pattern ok, 1 unwritten, -EILSEQ bad. */
static int load_pattern_check_block(const uint8_t *blk, uint64_t lba, uint32_t block_len)
{
	uint32_t off;

	if (get_be64(blk) == LOAD_MAGIC && get_be64(blk + 8) == lba) {
		for (off = 16; off < block_len; off++)
			if (blk[off] != (uint8_t)(lba * 131u + off))
				return -EILSEQ;
		return 0;
	}
	for (off = 0; off < block_len; off++)
		if (blk[off] != 0)
			return -EILSEQ;
	return 1;
}

static void load_verify(struct load_run *r, const struct load_slot *s)
{
	uint32_t n = (uint32_t)(r->o.bs / r->block_len), i;
	int rc;

	for (i = 0; i < n; i++) {
		rc = load_pattern_check_block(s->buf + (size_t)i * r->block_len, s->lba + i,
					      r->block_len);
		if (rc == 0) {
			r->st.verified++;
		} else if (rc == 1) {
			r->st.unwritten++;
		} else {
			if (r->st.mismatches == 0)
				fprintf(stderr,
					"hatgt-load: session %u: data mismatch at LBA %" PRIu64
					"\n",
					s->sess->idx, s->lba + i);
			r->st.mismatches++;
		}
	}
}

static void load_io_done(struct iscsi_context *iscsi, int status, void *command_data,
			 void *private_data);

/* Whether a session may start another command now. */
static bool load_sess_wants_more(const struct load_run *r, const struct load_sess *ss)
{
	if (r->stopping || ss->failed)
		return false;
	if (r->o.ios != 0)
		return ss->submitted < r->o.ios;
	return true;
}

static int load_slot_submit(struct load_run *r, struct load_slot *s)
{
	struct load_sess *ss = s->sess;
	uint32_t blocks_per_io = (uint32_t)(r->o.bs / r->block_len);
	struct scsi_task *task;
	uint64_t unit;

	if (r->o.random) {
		unit = load_rng_next(&ss->rng) % r->units;
	} else {
		unit = ss->seq_next;
		ss->seq_next = (ss->seq_next + 1) % r->units;
	}
	s->lba = unit * blocks_per_io;
	s->is_read = load_rng_next(&ss->rng) % 100 < r->o.read_pct;
	if (!s->is_read && r->o.verify)
		load_pattern_fill(s->buf, s->lba, blocks_per_io, r->block_len);
	s->iov.iov_base = s->buf;
	s->iov.iov_len = r->o.bs;
	s->t_submit = load_now();
	if (s->is_read)
		task = iscsi_read16_iov_task(ss->iscsi, ss->lun, s->lba, (uint32_t)r->o.bs,
					     (int)r->block_len, 0, 0, 0, 0, 0, load_io_done, s,
					     &s->iov, 1);
	else
		task = iscsi_write16_iov_task(ss->iscsi, ss->lun, s->lba, NULL, (uint32_t)r->o.bs,
					      (int)r->block_len, 0, 0, 0, 0, 0, load_io_done, s,
					      &s->iov, 1);
	if (!task) {
		fprintf(stderr, "hatgt-load: session %u: cannot queue: %s\n", ss->idx,
			iscsi_get_error(ss->iscsi));
		ss->failed = true;
		return -ENOMEM;
	}
	ss->submitted++;
	ss->inflight++;
	return 0;
}

static void load_io_done(struct iscsi_context *iscsi, int status, void *command_data,
			 void *private_data)
{
	struct load_slot *s = private_data;
	struct load_sess *ss = s->sess;
	struct scsi_task *task = command_data;
	struct load_run *r = ss->run;
	int64_t now = load_now(), lat = now - s->t_submit;

	ss->inflight--;
	ss->done++;
	r->st.ios_total++;
	if (status != SCSI_STATUS_GOOD) {
		if (r->st.errors == 0)
			fprintf(stderr,
				"hatgt-load: session %u: %s at LBA %" PRIu64 " failed: %s\n",
				ss->idx, s->is_read ? "READ(16)" : "WRITE(16)", s->lba,
				iscsi_get_error(iscsi));
		r->st.errors++;
		ss->failed = true;
	} else {
		if (s->is_read && r->o.verify)
			load_verify(r, s);
		if (s->t_submit >= r->t_measure && (r->o.ios != 0 || now <= r->t_end)) {
			load_stats_add(&r->st, lat, s->is_read);
			if (ss->st)
				load_stats_add(ss->st, lat, s->is_read);
		}
	}
	if (task)
		scsi_free_scsi_task(task);
	if (load_sess_wants_more(r, ss))
		load_slot_submit(r, s);
}

static int load_sess_open(struct load_run *r, struct load_sess *ss)
{
	struct iscsi_url *url = NULL;
	int rc = -EIO;

	ss->iscsi = iscsi_create_context(r->o.initiator);
	if (!ss->iscsi) {
		rc = -ENOMEM;
		goto out;
	}
	url = iscsi_parse_full_url(ss->iscsi, r->o.url);
	if (!url) {
		fprintf(stderr, "hatgt-load: bad URL '%s': %s\n", r->o.url,
			iscsi_get_error(ss->iscsi));
		rc = -EINVAL;
		goto out;
	}
	iscsi_set_noautoreconnect(ss->iscsi, 1);
	iscsi_set_session_type(ss->iscsi, ISCSI_SESSION_NORMAL);
	if (iscsi_set_targetname(ss->iscsi, url->target) != 0)
		goto out;
	if (url->user[0] != '\0' &&
	    iscsi_set_initiator_username_pwd(ss->iscsi, url->user, url->passwd) != 0)
		goto out;
	if (iscsi_full_connect_sync(ss->iscsi, url->portal, url->lun) != 0) {
		fprintf(stderr, "hatgt-load: session %u: login to %s failed: %s\n", ss->idx,
			url->portal, iscsi_get_error(ss->iscsi));
		goto out;
	}
	ss->lun = url->lun;
	rc = 0;
out:
	if (url)
		iscsi_destroy_url(url);
	return rc;
}

static void load_sess_close(struct load_sess *ss, bool logout)
{
	if (!ss->iscsi)
		return;
	if (logout && iscsi_is_logged_in(ss->iscsi))
		iscsi_logout_sync(ss->iscsi);
	iscsi_destroy_context(ss->iscsi);
	ss->iscsi = NULL;
}

static int load_capacity_read(struct load_run *r)
{
	struct load_sess *ss = &r->sess[0];
	struct scsi_readcapacity16 *rc16;
	struct scsi_task *task;
	uint64_t span_blocks;
	int rc = -EIO;

	task = iscsi_readcapacity16_sync(ss->iscsi, ss->lun);
	if (!task || task->status != SCSI_STATUS_GOOD) {
		fprintf(stderr, "hatgt-load: READ CAPACITY(16) failed: %s\n",
			iscsi_get_error(ss->iscsi));
		goto out;
	}
	rc16 = scsi_datain_unmarshall(task);
	if (!rc16 || rc16->block_length == 0) {
		fprintf(stderr, "hatgt-load: cannot decode READ CAPACITY(16) data\n");
		goto out;
	}
	r->block_len = rc16->block_length;
	r->nblocks = rc16->returned_lba + 1;
	if (r->o.bs % r->block_len != 0) {
		fprintf(stderr,
			"hatgt-load: block size %" PRIu64
			" is not a multiple of the LUN's %u-byte blocks\n",
			r->o.bs, r->block_len);
		rc = -EINVAL;
		goto out;
	}
	span_blocks = r->o.span ? r->o.span / r->block_len : r->nblocks;
	if (span_blocks > r->nblocks)
		span_blocks = r->nblocks;
	r->units = span_blocks / (r->o.bs / r->block_len);
	if (r->units == 0) {
		fprintf(stderr,
			"hatgt-load: the LUN (%" PRIu64 " blocks) is smaller than one I/O\n",
			r->nblocks);
		rc = -EINVAL;
		goto out;
	}
	rc = 0;
out:
	if (task)
		scsi_free_scsi_task(task);
	return rc;
}

/* Poll every context once, up to timeout_ms. Returns 0 or -EIO when a
 * session's connection failed (the session is marked failed). */
static int load_poll_once(struct load_run *r, struct pollfd *pfd, int timeout_ms)
{
	unsigned int i;
	int n, rc = 0;

	for (i = 0; i < r->nsess; i++) {
		pfd[i].fd = r->sess[i].failed ? -1 : iscsi_get_fd(r->sess[i].iscsi);
		pfd[i].events =
			(short)(r->sess[i].failed ? 0 : iscsi_which_events(r->sess[i].iscsi));
		pfd[i].revents = 0;
	}
	n = poll(pfd, r->nsess, timeout_ms);
	if (n < 0)
		return errno == EINTR ? 0 : -errno;
	for (i = 0; i < r->nsess; i++) {
		if (r->sess[i].failed)
			continue;
		if (iscsi_service(r->sess[i].iscsi, pfd[i].revents) < 0) {
			fprintf(stderr, "hatgt-load: session %u: %s\n", i,
				iscsi_get_error(r->sess[i].iscsi));
			r->sess[i].failed = true;
			r->st.errors += r->sess[i].inflight ? r->sess[i].inflight : 1;
			rc = -EIO;
		}
	}
	return rc;
}

static uint64_t load_inflight(const struct load_run *r)
{
	uint64_t n = 0;
	unsigned int i;

	for (i = 0; i < r->nsess; i++)
		if (!r->sess[i].failed)
			n += r->sess[i].inflight;
	return n;
}

static void load_sig_handler(int sig)
{
	if (sig == SIGUSR1)
		load_go = 1;
	else
		load_interrupted = 1;
}

static const char *load_verify_note(const struct load_run *r)
{
	if (!r->o.verify)
		return "";
	return r->st.mismatches ? ", DATA MISMATCH" : ", data verified";
}

static void load_report(const struct load_run *r, double secs, unsigned int sessions_ok)
{
	const struct load_stats *st = &r->st;
	double iops = secs > 0 ? (double)st->ios / secs : 0;
	double mbps = iops * (double)r->o.bs / 1e6;
	double mean = st->ios ? st->lat_sum / (double)st->ios / 1000.0 : 0;
	unsigned int i;

	printf("hatgt-load: label=%s sessions=%u sessions_ok=%u qd=%u bs=%" PRIu64
	       " pattern=%s read_pct=%u secs=%.3f ios=%" PRIu64 " ios_total=%" PRIu64
	       " reads=%" PRIu64 " writes=%" PRIu64 " errors=%" PRIu64
	       " iops=%.0f mbps=%.1f lat_us_mean=%.1f"
	       " lat_us_min=%.1f lat_us_p50=%.1f lat_us_p90=%.1f lat_us_p99=%.1f"
	       " lat_us_p999=%.1f lat_us_max=%.1f verified_blocks=%" PRIu64
	       " unwritten_blocks=%" PRIu64 " mismatches=%" PRIu64 "\n",
	       r->o.label, r->nsess, sessions_ok, r->o.qd, r->o.bs, r->o.random ? "random" : "seq",
	       r->o.read_pct, secs, st->ios, st->ios_total, st->reads, st->writes, st->errors, iops,
	       mbps, mean, (double)st->lat_min / 1000.0, load_hist_quantile(st, 0.50),
	       load_hist_quantile(st, 0.90), load_hist_quantile(st, 0.99),
	       load_hist_quantile(st, 0.999), (double)st->lat_max / 1000.0, st->verified,
	       st->unwritten, st->mismatches);
	fprintf(stderr,
		"%s: %u x QD%u %" PRIu64 " B %s %u%% read: %.0f IOPS, %.1f MB/s, latency "
		"p50 %.0f us, p99 %.0f us, p99.9 %.0f us (%" PRIu64 " I/Os in %.1f s, %" PRIu64
		" errors%s)\n",
		r->o.label, r->nsess, r->o.qd, r->o.bs, r->o.random ? "random" : "sequential",
		r->o.read_pct, iops, mbps, load_hist_quantile(st, 0.50),
		load_hist_quantile(st, 0.99), load_hist_quantile(st, 0.999), st->ios, secs,
		st->errors, load_verify_note(r));
	for (i = 0; r->o.per_session && i < r->nsess; i++) {
		const struct load_stats *ps = r->sess[i].st;

		/* Fairness across connections: each session's rate and tail. */
		printf("hatgt-load: label=%s session=%u ios=%" PRIu64 " iops=%.0f lat_us_p50=%.1f"
		       " lat_us_p99=%.1f lat_us_max=%.1f failed=%d\n",
		       r->o.label, i, ps->ios, secs > 0 ? (double)ps->ios / secs : 0,
		       load_hist_quantile(ps, 0.50), load_hist_quantile(ps, 0.99),
		       (double)ps->lat_max / 1000.0, r->sess[i].failed);
	}
	fflush(stdout);
}

/* Run the load on open sessions. Returns 0 or -EIO. */
static int load_run_io(struct load_run *r)
{
	struct pollfd *pfd = calloc(r->nsess, sizeof(*pfd));
	unsigned int i, q, sessions_ok = 0;
	int64_t t_start, t_drain_end, t_stop;
	int rc = -ENOMEM;

	if (!pfd)
		goto out;
	t_start = load_now();
	r->t_measure = t_start + (int64_t)(r->o.warmup * (double)NSEC_PER_SEC);
	r->t_end = r->t_measure + (int64_t)(r->o.duration * (double)NSEC_PER_SEC);
	if (r->o.ios != 0)
		r->t_measure = t_start;
	for (i = 0; i < r->nsess; i++)
		for (q = 0; q < r->o.qd && load_sess_wants_more(r, &r->sess[i]); q++)
			load_slot_submit(r, &r->sess[i].slots[q]);
	while (!load_interrupted) {
		int64_t now = load_now();

		if (r->o.ios == 0 && now >= r->t_end)
			break;
		if (r->o.ios != 0 && load_inflight(r) == 0)
			break;
		load_poll_once(r, pfd, 100);
	}
	t_stop = load_now();
	r->stopping = true;
	t_drain_end = load_now() + LOAD_DRAIN_NS;
	while (load_inflight(r) != 0 && load_now() < t_drain_end)
		load_poll_once(r, pfd, 100);
	for (i = 0; i < r->nsess; i++) {
		if (r->sess[i].inflight != 0 && !r->sess[i].failed) {
			r->st.errors += r->sess[i].inflight;
			r->sess[i].failed = true;
		}
		if (!r->sess[i].failed && r->sess[i].done > 0)
			sessions_ok++;
	}
	load_report(r, (double)((r->o.ios ? t_stop : r->t_end) - r->t_measure) / 1e9, sessions_ok);
	rc = (r->st.errors || r->st.mismatches || load_interrupted) ? -EIO : 0;
out:
	free(pfd);
	return rc;
}

/* Keep idle sessions serviced (NOP-In answers) until SIGUSR1. */
static int load_wait_signal(struct load_run *r)
{
	struct pollfd *pfd = calloc(r->nsess, sizeof(*pfd));
	int rc = -ENOMEM;

	if (!pfd)
		goto out;
	printf("hatgt-load: ready sessions=%u\n", r->nsess);
	fflush(stdout);
	while (!load_go && !load_interrupted)
		load_poll_once(r, pfd, 200);
	rc = load_interrupted ? -EINTR : 0;
out:
	free(pfd);
	return rc;
}

/* Parse a size with an optional K/M/G suffix (powers of 1024). */
static int load_size_parse(const char *s, uint64_t *out)
{
	static const char suffixes[] = "kmg";
	unsigned long long v;
	unsigned int shift = 0;
	const char *sfx;
	char *end;

	errno = 0;
	v = strtoull(s, &end, 10);
	if (errno != 0 || end == s || s[0] == '-')
		return -EINVAL;
	if (*end != '\0') {
		sfx = strchr(suffixes, *end | 0x20);
		if (!sfx || end[1] != '\0')
			return -EINVAL;
		shift = 10u * (unsigned int)(sfx - suffixes + 1);
	}
	if (v > (ULLONG_MAX >> shift))
		return -ERANGE;
	*out = (uint64_t)v << shift;
	return 0;
}

static int load_uint_parse(const char *s, unsigned long lo, unsigned long hi, unsigned int *out)
{
	unsigned long v;
	char *end;

	errno = 0;
	v = strtoul(s, &end, 10);
	if (errno != 0 || end == s || *end != '\0' || s[0] == '-' || v < lo || v > hi)
		return -EINVAL;
	*out = (unsigned int)v;
	return 0;
}

static int load_secs_parse(const char *s, double *out)
{
	char *end;
	double v;

	errno = 0;
	v = strtod(s, &end);
	if (errno != 0 || end == s || *end != '\0' || !(v >= 0) || v > 86400)
		return -EINVAL;
	*out = v;
	return 0;
}

static void load_usage(FILE *f)
{
	fprintf(f, "usage: hatgt-load [options] iscsi://HOST[:PORT]/TARGET-IQN/LUN\n"
		   "  -i, --initiator IQN   initiator name (iqn.2026-11.org.hatgt:load)\n"
		   "  -s, --sessions N      sessions, each with its own connection (1)\n"
		   "  -q, --qd N            commands outstanding per session (1)\n"
		   "  -b, --bs SIZE         bytes per command, K/M suffix (4K)\n"
		   "  -p, --pattern P       rand | seq (rand)\n"
		   "  -r, --read-pct N      percentage of reads, 0..100 (100)\n"
		   "  -t, --duration SECS   measured time (5)\n"
		   "  -w, --warmup SECS     unmeasured time before it (1)\n"
		   "  -n, --ios N           instead of a duration: N commands per session\n"
		   "  -z, --span SIZE       use only the first SIZE bytes of the LUN\n"
		   "  -V, --verify          write an LBA pattern, check it on reads\n"
		   "  -W, --wait-signal     log in, then keep sessions idle until SIGUSR1\n"
		   "  -P, --per-session     also print IOPS and latency of each session\n"
		   "  -S, --seed N          random seed (1)\n"
		   "  -L, --label TEXT      label in the output lines (load)\n");
}

static int load_opts_parse(int argc, char **argv, struct load_opts *o)
{
	static const struct option longopts[] = {
		{"initiator", required_argument, NULL, 'i'},
		{"sessions", required_argument, NULL, 's'},
		{"qd", required_argument, NULL, 'q'},
		{"bs", required_argument, NULL, 'b'},
		{"pattern", required_argument, NULL, 'p'},
		{"read-pct", required_argument, NULL, 'r'},
		{"duration", required_argument, NULL, 't'},
		{"warmup", required_argument, NULL, 'w'},
		{"ios", required_argument, NULL, 'n'},
		{"span", required_argument, NULL, 'z'},
		{"verify", no_argument, NULL, 'V'},
		{"wait-signal", no_argument, NULL, 'W'},
		{"per-session", no_argument, NULL, 'P'},
		{"seed", required_argument, NULL, 'S'},
		{"label", required_argument, NULL, 'L'},
		{"help", no_argument, NULL, 'h'},
		{NULL, 0, NULL, 0},
	};
	int c, rc = 0;

	while ((c = getopt_long(argc, argv, "i:s:q:b:p:r:t:w:n:z:VWPS:L:h", longopts, NULL)) !=
	       -1) {
		switch (c) {
		case 'i':
			o->initiator = optarg;
			break;
		case 's':
			rc = load_uint_parse(optarg, 1, 4096, &o->sessions);
			break;
		case 'q':
			rc = load_uint_parse(optarg, 1, 1024, &o->qd);
			break;
		case 'b':
			rc = load_size_parse(optarg, &o->bs);
			break;
		case 'p':
			if (strcmp(optarg, "rand") == 0 || strcmp(optarg, "random") == 0)
				o->random = true;
			else if (strcmp(optarg, "seq") == 0 || strcmp(optarg, "sequential") == 0)
				o->random = false;
			else
				rc = -EINVAL;
			break;
		case 'r':
			rc = load_uint_parse(optarg, 0, 100, &o->read_pct);
			break;
		case 't':
			rc = load_secs_parse(optarg, &o->duration);
			break;
		case 'w':
			rc = load_secs_parse(optarg, &o->warmup);
			break;
		case 'n':
			rc = load_size_parse(optarg, &o->ios);
			break;
		case 'z':
			rc = load_size_parse(optarg, &o->span);
			break;
		case 'P':
			o->per_session = true;
			break;
		case 'V':
			o->verify = true;
			break;
		case 'W':
			o->wait_signal = true;
			break;
		case 'S':
			rc = load_size_parse(optarg, &o->seed);
			break;
		case 'L':
			o->label = optarg;
			break;
		case 'h':
			load_usage(stdout);
			exit(0);
		default:
			rc = -EINVAL;
			break;
		}
		if (rc != 0) {
			if (c != '?')
				fprintf(stderr, "hatgt-load: bad value for -%c: '%s'\n", c, optarg);
			goto out;
		}
	}
	if (optind != argc - 1) {
		rc = -EINVAL;
		goto out;
	}
	o->url = argv[optind];
	/* libiscsi takes the transfer length as uint32_t; keep it sane. */
	if (o->bs == 0 || o->bs > (64u << 20)) {
		fprintf(stderr, "hatgt-load: block size must be 1 B .. 64 MiB\n");
		rc = -EINVAL;
		goto out;
	}
	if (o->seed == 0)
		o->seed = 1;
out:
	return rc;
}

int main(int argc, char **argv)
{
	struct load_run *r = calloc(1, sizeof(*r));
	struct sigaction sa = {.sa_handler = load_sig_handler};
	unsigned int i, q;
	int rc, status = 3;

	if (!r) {
		fprintf(stderr, "hatgt-load: out of memory\n");
		return 3;
	}
	r->o = (struct load_opts){
		.initiator = "iqn.2026-11.org.hatgt:load",
		.label = "load",
		.sessions = 1,
		.qd = 1,
		.bs = 4096,
		.random = true,
		.read_pct = 100,
		.duration = 5,
		.warmup = 1,
	};
	if (load_opts_parse(argc, argv, &r->o) != 0) {
		load_usage(stderr);
		status = 2;
		goto out;
	}
	sigaction(SIGUSR1, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);

	r->sess = calloc(r->o.sessions, sizeof(*r->sess));
	if (!r->sess)
		goto out;
	for (i = 0; i < r->o.sessions; i++) {
		struct load_sess *ss = &r->sess[i];

		ss->run = r;
		ss->idx = i;
		ss->rng = r->o.seed * UINT64_C(0x9E3779B97F4A7C15) + i + 1;
		ss->slots = calloc(r->o.qd, sizeof(*ss->slots));
		if (!ss->slots)
			goto out;
		if (r->o.per_session) {
			ss->st = calloc(1, sizeof(*ss->st));
			if (!ss->st)
				goto out;
		}
		for (q = 0; q < r->o.qd; q++) {
			ss->slots[q].sess = ss;
			ss->slots[q].buf = calloc(1, r->o.bs);
			if (!ss->slots[q].buf)
				goto out;
		}
		/* nsess counts the sessions to close, so count before opening. */
		r->nsess = i + 1;
		if (load_sess_open(r, ss) != 0 || load_interrupted)
			goto out;
	}
	if (load_capacity_read(r) != 0)
		goto out;
	/* Sequential streams start spread over the span, one per session. */
	for (i = 0; i < r->nsess; i++)
		r->sess[i].seq_next = r->units * i / r->nsess;
	if (r->o.wait_signal && load_wait_signal(r) != 0)
		goto out;
	rc = load_run_io(r);
	status = rc == 0 ? 0 : 1;
out:
	if (r->sess) {
		for (i = 0; i < r->o.sessions; i++) {
			load_sess_close(&r->sess[i], !r->sess[i].failed && status != 3);
			if (r->sess[i].slots)
				for (q = 0; q < r->o.qd; q++)
					free(r->sess[i].slots[q].buf);
			free(r->sess[i].slots);
			free(r->sess[i].st);
		}
		free(r->sess);
	}
	free(r);
	return status;
}
