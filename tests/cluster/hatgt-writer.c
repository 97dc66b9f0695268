/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * hatgt-writer: the initiator of the failover scenarios. It writes blocks
 * 0, 1, 2... of a LUN, one WRITE(16) at a time, each block holding its
 * sequence number and a pattern, and prints one line per acknowledged write:
 *   "ack SEQ T_NS"      (T_NS: CLOCK_MONOTONIC when GOOD arrived)
 * When a write fails or the connection drops it logs in again (every 100 ms)
 * and writes the same block again, until SECS seconds have passed. A write is
 * counted only once it was acknowledged, so every "ack" line is a promise the
 * target made. Its log (stderr) starts with "clock MONO_NS REAL_NS", the
 * two clocks read together, and every later line carries its CLOCK_MONOTONIC
 * time, so that tests/cluster/timeline.sh can place the acknowledgements,
 * failures and logins among the cluster's logs (wall clock).
 *   hatgt-writer write URL SECS INITIATOR    write for SECS seconds
 *   hatgt-writer verify URL COUNT INITIATOR  read blocks 0..COUNT-1 back; print
 *                                            "lost SEQ" per block without its
 *                                            data, then "verified N lost M"
 * Exit: 0 done (verify: nothing lost), 1 lost writes, 2 usage/connection.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <iscsi/iscsi.h>
#include <iscsi/scsi-lowlevel.h>

#define WR_BLOCK 512
#define WR_MAGIC 0x6861746774777274ULL /* "hatgtwrt" */

static uint64_t wr_now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ULL + (uint64_t)ts.tv_nsec;
}

static uint64_t wr_real_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ULL + (uint64_t)ts.tv_nsec;
}

static void wr_sleep_ms(long ms)
{
	struct timespec ts = {.tv_sec = ms / 1000, .tv_nsec = (ms % 1000) * 1000000L};

	nanosleep(&ts, NULL);
}

/* The block image of sequence number SEQ: magic, seq, then a seq-derived fill. */
static void wr_block_fill(unsigned char *b, uint64_t seq)
{
	uint64_t magic = WR_MAGIC;
	size_t i;

	memcpy(b, &magic, sizeof(magic));
	memcpy(b + 8, &seq, sizeof(seq));
	for (i = 16; i < WR_BLOCK; i++)
		b[i] = (unsigned char)(seq * 31 + i);
}

static struct iscsi_context *wr_connect(const char *url_s, const char *initiator)
{
	struct iscsi_context *c;
	struct iscsi_url *url;

	c = iscsi_create_context(initiator);
	if (!c)
		return NULL;
	url = iscsi_parse_full_url(c, url_s);
	if (!url)
		goto fail;
	iscsi_set_session_type(c, ISCSI_SESSION_NORMAL);
	iscsi_set_header_digest(c, ISCSI_HEADER_DIGEST_NONE_CRC32C);
	/* Bounded: a task or a login that gets no answer fails after 10 s,
	 * longer than any lab failover (about 5 s at worst), so that the gap
	 * measures the failover and its tickle ACK, not this timeout: with 5
	 * s it expired just as the portal IP moved, and the new connection's
	 * first SYN was lost (sent as the address moved: to the old node's MAC
	 * or before the address was up), costing TCP's 1 s SYN retransmission
	 * on top (docs/ha.md). open-iscsi notices a silent connection after
	 * its NOP-Out interval + timeout (5 + 5 s). */
	iscsi_set_timeout(c, 10);
	iscsi_set_targetname(c, url->target);
	if (iscsi_full_connect_sync(c, url->portal, url->lun) != 0) {
		iscsi_destroy_url(url);
		goto fail;
	}
	iscsi_destroy_url(url);
	return c;
fail:
	iscsi_destroy_context(c);
	return NULL;
}

/* The LUN is the URL's last path element (iscsi://HOST/IQN/LUN). */
static int wr_lun(const char *url_s)
{
	const char *slash = strrchr(url_s, '/');
	unsigned long v;
	char *end;

	if (!slash)
		return 0;
	v = strtoul(slash + 1, &end, 10);
	return (*end || v > 255) ? 0 : (int)v;
}

static int wr_write(const char *url, long secs, const char *initiator)
{
	unsigned char b[WR_BLOCK];
	struct iscsi_context *c = NULL;
	struct scsi_task *t;
	uint64_t end = wr_now_ns() + (uint64_t)secs * 1000000000ULL, seq = 0;
	int lun = wr_lun(url), good;

	fprintf(stderr, "clock %" PRIu64 " %" PRIu64 "\n", wr_now_ns(), wr_real_ns());
	while (wr_now_ns() < end) {
		if (!c) {
			c = wr_connect(url, initiator);
			if (!c) {
				wr_sleep_ms(100);
				continue;
			}
			fprintf(stderr, "hatgt-writer: %" PRIu64 " logged in\n", wr_now_ns());
		}
		wr_block_fill(b, seq);
		t = iscsi_write16_sync(c, lun, seq, b, WR_BLOCK, WR_BLOCK, 0, 0, 0, 0, 0);
		good = t && t->status == SCSI_STATUS_GOOD;
		if (t)
			scsi_free_scsi_task(t);
		if (!good) {
			fprintf(stderr, "hatgt-writer: %" PRIu64 " write %" PRIu64 " failed: %s\n",
				wr_now_ns(), seq, iscsi_get_error(c));
			iscsi_destroy_context(c);
			c = NULL;
			continue;
		}
		printf("ack %" PRIu64 " %" PRIu64 "\n", seq, wr_now_ns());
		fflush(stdout);
		seq++;
	}
	if (c) {
		iscsi_logout_sync(c);
		iscsi_destroy_context(c);
	}
	return 0;
}

static int wr_verify(const char *url, uint64_t count, const char *initiator)
{
	unsigned char want[WR_BLOCK];
	struct iscsi_context *c;
	struct scsi_task *t;
	uint64_t seq, lost = 0;
	int lun = wr_lun(url);

	c = wr_connect(url, initiator);
	if (!c) {
		fprintf(stderr, "hatgt-writer: cannot log in to %s\n", url);
		return 2;
	}
	for (seq = 0; seq < count; seq++) {
		wr_block_fill(want, seq);
		t = iscsi_read16_sync(c, lun, seq, WR_BLOCK, WR_BLOCK, 0, 0, 0, 0, 0);
		if (!t || t->status != SCSI_STATUS_GOOD || t->datain.size != WR_BLOCK ||
		    memcmp(t->datain.data, want, WR_BLOCK) != 0) {
			printf("lost %" PRIu64 "\n", seq);
			lost++;
		}
		if (t)
			scsi_free_scsi_task(t);
	}
	printf("verified %" PRIu64 " lost %" PRIu64 "\n", count, lost);
	iscsi_logout_sync(c);
	iscsi_destroy_context(c);
	return lost ? 1 : 0;
}

int main(int argc, char **argv)
{
	char *end;
	unsigned long long n;

	if (argc != 5)
		goto usage;
	n = strtoull(argv[3], &end, 10);
	if (*end || end == argv[3])
		goto usage;
	if (strcmp(argv[1], "write") == 0 && n > 0 && n <= 3600)
		return wr_write(argv[2], (long)n, argv[4]);
	if (strcmp(argv[1], "verify") == 0)
		return wr_verify(argv[2], n, argv[4]);
usage:
	fprintf(stderr, "usage: hatgt-writer write URL SECS INITIATOR\n"
			"       hatgt-writer verify URL COUNT INITIATOR\n");
	return 2;
}
