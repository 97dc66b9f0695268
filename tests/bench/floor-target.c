// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * floor-target: an iSCSI target that does no work (issue 6). It measures
 * the lowest target CPU per I/O this machine allows with the same client
 * (hatgt-load, libiscsi) and the same message sizes as hatgtd.
 *
 *   floor-target -p PORT [-s SIZE] [-m spin|block]
 *
 * One thread, up to 16 connections on 127.0.0.1:PORT. spin: the loop calls
 * recv(MSG_DONTWAIT) on every connection in turn (a polling target); block:
 * poll() with no timeout, then recv (a sleeping target). Neither spins while
 * no connection is open. READ answers from a static zeroed buffer, WRITE
 * data is received and dropped, every response is one sendmsg().
 *
 * Written from RFC 7143 (sections cited below), SPC-4 and SBC-3. LUN 0 only
 * (the LUN field is not checked); other CDBs: every data-out command and
 * TEST UNIT READY / SYNCHRONIZE CACHE complete GOOD, anything else gets
 * CHECK CONDITION, ILLEGAL REQUEST, INVALID COMMAND OPERATION CODE (20/00).
 * ERL 0 only, no digests, no CHAP, a single connection per session.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <unistd.h>

#include "util/be.h"

#define FLOOR_BHS_LEN 48
#define FLOOR_CONNS_MAX 16
#define FLOOR_MRDSL 262144u /* what we declare and accept (RFC 7143 13.12) */
#define FLOOR_RX_CAP (FLOOR_BHS_LEN + 255 * 4 + FLOOR_MRDSL + 65536)
#define FLOOR_ZERO_LEN (1u << 20)
#define FLOOR_TASKS_MAX 128
#define FLOOR_WINDOW 63 /* MaxCmdSN = ExpCmdSN + 63 */
#define FLOOR_TEXT_MAX 65536u
#define FLOOR_TAG_NONE 0xffffffffu
#define FLOOR_IQN "iqn.2026-11.org.hatgt.floor:disk"

/* Opcodes (RFC 7143 11.2.1.2). */
enum {
	FLOOR_OP_NOP_OUT = 0x00,
	FLOOR_OP_SCSI_CMD = 0x01,
	FLOOR_OP_TMF_REQ = 0x02,
	FLOOR_OP_LOGIN_REQ = 0x03,
	FLOOR_OP_TEXT_REQ = 0x04,
	FLOOR_OP_DATA_OUT = 0x05,
	FLOOR_OP_LOGOUT_REQ = 0x06,
	FLOOR_OP_NOP_IN = 0x20,
	FLOOR_OP_SCSI_RSP = 0x21,
	FLOOR_OP_TMF_RSP = 0x22,
	FLOOR_OP_LOGIN_RSP = 0x23,
	FLOOR_OP_TEXT_RSP = 0x24,
	FLOOR_OP_DATA_IN = 0x25,
	FLOOR_OP_LOGOUT_RSP = 0x26,
	FLOOR_OP_R2T = 0x31,
};

/* A WRITE waiting for data (RFC 7143 4.2.5.2: unsolicited data, then R2Ts). */
struct floor_task {
	bool used;
	uint32_t itt;
	uint32_t edtl; /* Expected Data Transfer Length */
	uint32_t got;  /* bytes received so far (DataPDUInOrder=Yes) */
	uint32_t want; /* end of the sequence being received */
	uint32_t r2tsn;
	uint8_t lun[8];
};

struct floor_conn {
	int fd;
	bool ffp; /* full feature phase reached */
	bool discovery;
	bool tpgt_sent;
	bool mrdsl_sent;
	uint8_t isid[6];
	uint32_t stat_sn;
	uint32_t exp_cmdsn;
	/* Negotiated (RFC 7143 13: defaults until the initiator offers). */
	uint32_t mrdsl_out; /* initiator's MaxRecvDataSegmentLength */
	uint32_t first_burst;
	uint32_t max_burst;
	bool initial_r2t;
	bool immediate;
	/* Receive side: whole PDUs in rx; the data of a SCSI Command or
	 * Data-Out that did not fit is received into scratch and dropped. */
	uint8_t *rx;
	uint32_t rx_len;
	uint32_t skip;
	uint8_t skip_hdr[FLOOR_BHS_LEN];
	char *text; /* login/text keys, accumulated over C-bit PDUs */
	uint32_t text_len;
	struct floor_task tasks[FLOOR_TASKS_MAX];
};

struct floor_out {
	char buf[8192];
	size_t len;
	bool overflow;
};

static volatile sig_atomic_t floor_stop;
static bool floor_spin;
static uint64_t floor_lun_bytes = 1ull << 30;
static uint16_t floor_tsih_last;
static uint8_t floor_zero[FLOOR_ZERO_LEN];
static uint8_t floor_scratch[FLOOR_MRDSL];

static void floor_signal_catch(int sig)
{
	floor_stop = 1;
}

static uint32_t floor_min32(uint64_t a, uint64_t b)
{
	uint64_t m = a < b ? a : b;

	return m > UINT32_MAX ? UINT32_MAX : (uint32_t)m;
}

/* Wait until fd takes more bytes: poll in block mode, retry in spin mode. */
static int floor_conn_wait_out(struct floor_conn *c)
{
	struct pollfd p = {.fd = c->fd, .events = POLLOUT};

	if (floor_stop)
		return -EINTR;
	if (!floor_spin && poll(&p, 1, -1) < 0 && errno != EINTR)
		return -errno;
	return 0;
}

/* Send one PDU (BHS, data, pad) with one sendmsg() when the socket takes it. */
static int floor_conn_send(struct floor_conn *c, uint8_t *bhs, const void *data, uint32_t len)
{
	static uint8_t pad[4];
	struct iovec iov[3] = {
		{.iov_base = bhs, .iov_len = FLOOR_BHS_LEN},
		{.iov_base = (void *)data, .iov_len = len},
		{.iov_base = pad, .iov_len = (4 - (len & 3)) & 3},
	};
	struct msghdr msg = {.msg_iov = iov, .msg_iovlen = len == 0 ? 1 : iov[2].iov_len ? 3 : 2};
	ssize_t n;
	int rc = 0;

	put_be24(bhs + 5, len);
	while (msg.msg_iovlen > 0) {
		n = sendmsg(c->fd, &msg, MSG_NOSIGNAL | MSG_DONTWAIT);
		if (n < 0) {
			if (errno != EAGAIN && errno != EINTR) {
				rc = -errno;
				goto out;
			}
			rc = floor_conn_wait_out(c);
			if (rc != 0)
				goto out;
			continue;
		}
		while (msg.msg_iovlen > 0 && (size_t)n >= msg.msg_iov->iov_len) {
			n -= (ssize_t)msg.msg_iov->iov_len;
			msg.msg_iov++;
			msg.msg_iovlen--;
		}
		if (msg.msg_iovlen > 0) {
			msg.msg_iov->iov_base = (uint8_t *)msg.msg_iov->iov_base + n;
			msg.msg_iov->iov_len -= (size_t)n;
		}
	}
out:
	return rc;
}

/* Opcode, flags and ITT; StatSN (advanced when stat), ExpCmdSN, MaxCmdSN. */
static void floor_conn_bhs_init(struct floor_conn *c, uint8_t *h, uint8_t op, uint8_t flags,
				uint32_t itt, bool stat)
{
	memset(h, 0, FLOOR_BHS_LEN);
	h[0] = op;
	h[1] = flags;
	put_be32(h + 16, itt);
	if (stat)
		put_be32(h + 24, c->stat_sn++);
	put_be32(h + 28, c->exp_cmdsn);
	put_be32(h + 32, c->exp_cmdsn + FLOOR_WINDOW);
}

/* SCSI Response (RFC 7143 11.4); sense is a fixed-format sense key/ASC. */
static int floor_conn_scsi_rsp(struct floor_conn *c, const uint8_t *req, uint8_t sense_key,
			       uint8_t asc, uint32_t exp_datasn)
{
	uint8_t h[FLOOR_BHS_LEN], sense[2 + 18] = {0};
	uint32_t edtl = get_be32(req + 20);

	floor_conn_bhs_init(c, h, FLOOR_OP_SCSI_RSP, 0x80, get_be32(req + 16), true);
	put_be32(h + 36, exp_datasn);
	if (sense_key == 0)
		return floor_conn_send(c, h, NULL, 0);
	h[3] = 0x02; /* CHECK CONDITION, no data moved: underflow of all */
	if (edtl > 0) {
		h[1] |= 0x02;
		put_be32(h + 44, edtl);
	}
	put_be16(sense, 18);
	sense[2] = 0x70;
	sense[2 + 2] = sense_key;
	sense[2 + 7] = 10;
	sense[2 + 12] = asc;
	return floor_conn_send(c, h, sense, sizeof(sense));
}

/* Data-In PDUs of at most MaxRecvDataSegmentLength, status in the last
 * (RFC 7143 11.7); data NULL means len zero bytes. */
static int floor_conn_data_in(struct floor_conn *c, const uint8_t *req, const uint8_t *data,
			      uint64_t len)
{
	uint8_t h[FLOOR_BHS_LEN];
	uint32_t edtl = get_be32(req + 20), total = floor_min32(len, edtl), off = 0, n, sn = 0;
	uint8_t resid_flag = 0;
	uint32_t resid = 0;
	int rc = 0;

	if (len > edtl) {
		resid_flag = 0x04; /* O */
		resid = floor_min32(len - edtl, UINT32_MAX);
	} else if (len < edtl) {
		resid_flag = 0x02; /* U */
		resid = edtl - (uint32_t)len;
	}
	if (total == 0) {
		floor_conn_bhs_init(c, h, FLOOR_OP_SCSI_RSP, 0x80 | resid_flag, get_be32(req + 16),
				    true);
		put_be32(h + 44, resid);
		return floor_conn_send(c, h, NULL, 0);
	}
	while (rc == 0 && off < total) {
		n = floor_min32(total - off,
				data ? c->mrdsl_out : floor_min32(c->mrdsl_out, FLOOR_ZERO_LEN));
		if (off + n == total) {
			floor_conn_bhs_init(c, h, FLOOR_OP_DATA_IN, 0x81 | resid_flag,
					    get_be32(req + 16), true);
			put_be32(h + 44, resid);
		} else {
			floor_conn_bhs_init(c, h, FLOOR_OP_DATA_IN, 0, get_be32(req + 16), false);
		}
		put_be32(h + 20, FLOOR_TAG_NONE);
		put_be32(h + 36, sn++);
		put_be32(h + 40, off);
		rc = floor_conn_send(c, h, data ? data + off : floor_zero, n);
		off += n;
	}
	return rc;
}

/* R2T for the next burst or the response once all data is in (4.2.5.2). */
static int floor_conn_task_advance(struct floor_conn *c, struct floor_task *t)
{
	uint8_t h[FLOOR_BHS_LEN];
	uint32_t n;

	if (t->got < t->want)
		return 0;
	if (t->got >= t->edtl) {
		t->used = false;
		floor_conn_bhs_init(c, h, FLOOR_OP_SCSI_RSP, 0x80, t->itt, true);
		put_be32(h + 36, t->r2tsn);
		return floor_conn_send(c, h, NULL, 0);
	}
	n = floor_min32(c->max_burst, t->edtl - t->got);
	floor_conn_bhs_init(c, h, FLOOR_OP_R2T, 0x80, t->itt, false);
	memcpy(h + 8, t->lun, 8);
	put_be32(h + 20, (uint32_t)(t - c->tasks)); /* Target Transfer Tag */
	put_be32(h + 24, c->stat_sn);
	put_be32(h + 36, t->r2tsn++);
	put_be32(h + 40, t->got);
	put_be32(h + 44, n);
	t->want = t->got + n;
	return floor_conn_send(c, h, NULL, 0);
}

/* Any data-out command: take immediate and unsolicited data, then R2T. */
static int floor_conn_write(struct floor_conn *c, const uint8_t *req, uint32_t dsl)
{
	struct floor_task *t = NULL;
	uint32_t edtl = get_be32(req + 20);
	int i;

	for (i = 0; i < FLOOR_TASKS_MAX && !t; i++)
		if (!c->tasks[i].used)
			t = &c->tasks[i];
	if (!t || dsl > edtl || (dsl > 0 && !c->immediate)) {
		fprintf(stderr, "floor-target: bad WRITE (%u of %u bytes immediate)%s\n", dsl, edtl,
			t ? "" : " or too many tasks");
		return -EPROTO;
	}
	memset(t, 0, sizeof(*t));
	t->used = true;
	t->itt = get_be32(req + 16);
	t->edtl = edtl;
	t->got = dsl;
	memcpy(t->lun, req + 8, 8);
	/* F set: no unsolicited Data-Out follows; else up to FirstBurstLength. */
	t->want = (req[1] & 0x80) || c->initial_r2t ? dsl : floor_min32(c->first_burst, edtl);
	return floor_conn_task_advance(c, t);
}

/* Data-Out (RFC 7143 11.8): count the bytes of the task they belong to. */
static int floor_conn_data_out(struct floor_conn *c, const uint8_t *h, uint32_t dsl)
{
	struct floor_task *t = NULL;
	int i;

	for (i = 0; i < FLOOR_TASKS_MAX && !t; i++)
		if (c->tasks[i].used && c->tasks[i].itt == get_be32(h + 16))
			t = &c->tasks[i];
	if (!t)
		return 0; /* a task we already ended (CHECK CONDITION or TMF) */
	if (get_be32(h + 40) != t->got || t->got + (uint64_t)dsl > t->want) {
		fprintf(stderr, "floor-target: Data-Out at %u+%u, expected %u..%u\n",
			get_be32(h + 40), dsl, t->got, t->want);
		return -EPROTO;
	}
	t->got += dsl;
	return floor_conn_task_advance(c, t);
}

/* SCSI Command (RFC 7143 11.3): CDB at byte 32, LUN 0 of floor_lun_bytes. */
static int floor_conn_scsi(struct floor_conn *c, const uint8_t *h, uint32_t dsl)
{
	const uint8_t *cdb = h + 32;
	uint64_t last_lba = floor_lun_bytes / 512 - 1;
	uint8_t d[36] = {0};

	if (c->discovery)
		return -EPROTO;
	if (h[1] & 0x20)
		return floor_conn_write(c, h, dsl);
	switch (cdb[0]) {
	case 0x28: /* READ(10), SBC-3 5.11 */
		return floor_conn_data_in(c, h, NULL, (uint64_t)get_be16(cdb + 7) * 512);
	case 0x88: /* READ(16), SBC-3 5.13 */
		return floor_conn_data_in(c, h, NULL, (uint64_t)get_be32(cdb + 10) * 512);
	case 0x00: /* TEST UNIT READY */
	case 0x35: /* SYNCHRONIZE CACHE(10): nothing is cached */
	case 0x91: /* SYNCHRONIZE CACHE(16) */
		return floor_conn_scsi_rsp(c, h, 0, 0, 0);
	case 0x12: /* INQUIRY, SPC-4 6.6: standard data or the VPD page list */
		if (cdb[1] & 0x01) {
			if (cdb[2] != 0x00)
				return floor_conn_scsi_rsp(c, h, 0x05, 0x24, 0);
			d[3] = 1; /* supported VPD pages: 0x00 only */
			return floor_conn_data_in(c, h, d, floor_min32(5, get_be16(cdb + 3)));
		}
		d[2] = 0x06; /* SPC-4 */
		d[3] = 0x02; /* response data format */
		d[4] = 36 - 5;
		d[7] = 0x02; /* CmdQue */
		memcpy(d + 8, "FLOOR   NULL TARGET     0001", 28);
		return floor_conn_data_in(c, h, d, floor_min32(36, get_be16(cdb + 3)));
	case 0x25: /* READ CAPACITY(10), SBC-3 5.15 */
		put_be32(d, floor_min32(last_lba, UINT32_MAX));
		put_be32(d + 4, 512);
		return floor_conn_data_in(c, h, d, 8);
	case 0x9e: /* SERVICE ACTION IN(16) / READ CAPACITY(16), SBC-3 5.16 */
		if ((cdb[1] & 0x1f) != 0x10)
			break;
		put_be64(d, last_lba);
		put_be32(d + 8, 512);
		return floor_conn_data_in(c, h, d, floor_min32(32, get_be32(cdb + 10)));
	case 0xa0: /* REPORT LUNS, SPC-4 6.33: LUN 0 */
		put_be32(d, 8);
		return floor_conn_data_in(c, h, d, floor_min32(16, get_be32(cdb + 6)));
	case 0x1a: /* MODE SENSE(6), SPC-4 6.11: header only */
		d[0] = 3;
		return floor_conn_data_in(c, h, d, floor_min32(4, cdb[4]));
	case 0x5a: /* MODE SENSE(10) */
		d[1] = 6;
		return floor_conn_data_in(c, h, d, floor_min32(8, get_be16(cdb + 7)));
	default:
		break;
	}
	return floor_conn_scsi_rsp(c, h, 0x05, 0x20, 0);
}

static void floor_out_add(struct floor_out *o, const char *key, const char *val)
{
	int n = snprintf(o->buf + o->len, sizeof(o->buf) - o->len, "%s=%s", key, val);

	if (n < 0 || (size_t)n + 1 > sizeof(o->buf) - o->len)
		o->overflow = true;
	else
		o->len += (size_t)n + 1;
}

static void floor_out_add_u32(struct floor_out *o, const char *key, uint32_t val)
{
	char s[16];

	snprintf(s, sizeof(s), "%u", val);
	floor_out_add(o, key, s);
}

static bool floor_list_has(const char *list, const char *item)
{
	size_t n = strlen(item);
	const char *p = list;

	while (p) {
		if (strncmp(p, item, n) == 0 && (p[n] == ',' || p[n] == '\0'))
			return true;
		p = strchr(p, ',');
		if (p)
			p++;
	}
	return false;
}

static int floor_num_parse(const char *s, uint32_t *v)
{
	char *end;
	unsigned long n;

	errno = 0;
	n = strtoul(s, &end, 0);
	if (errno != 0 || end == s || *end != '\0' || n > UINT32_MAX)
		return -EINVAL;
	*v = (uint32_t)n;
	return 0;
}

/* SendTargets (RFC 7143 Appendix C): this one target on the connection's address. */
static void floor_conn_send_targets(struct floor_conn *c, struct floor_out *o)
{
	struct sockaddr_in sa = {.sin_port = 0};
	socklen_t sl = sizeof(sa);
	char addr[INET_ADDRSTRLEN + 16], ip[INET_ADDRSTRLEN] = "127.0.0.1";

	if (getsockname(c->fd, (struct sockaddr *)&sa, &sl) == 0)
		inet_ntop(AF_INET, &sa.sin_addr, ip, sizeof(ip));
	snprintf(addr, sizeof(addr), "%s:%u,1", ip, ntohs(sa.sin_port));
	floor_out_add(o, "TargetName", FLOOR_IQN);
	floor_out_add(o, "TargetAddress", addr);
}

/* Answer one key (RFC 7143 13); -EINVAL for a value we cannot accept. */
static int floor_conn_key(struct floor_conn *c, const char *key, const char *val,
			  struct floor_out *o)
{
	static const char *const fixed[][2] = {
		{"MaxConnections", "1"},
		{"ErrorRecoveryLevel", "0"},
		{"MaxOutstandingR2T", "1"},
		{"DataPDUInOrder", "Yes"},
		{"DataSequenceInOrder", "Yes"},
		{"DefaultTime2Retain", "0"},
		{"IFMarker", "No"},
		{"OFMarker", "No"},
	};
	static const char *const declarative[] = {"InitiatorName", "InitiatorAlias", "TargetName"};
	bool yes = strcmp(val, "Yes") == 0;
	uint32_t v;
	size_t i;

	for (i = 0; i < sizeof(fixed) / sizeof(fixed[0]); i++)
		if (strcmp(key, fixed[i][0]) == 0) {
			floor_out_add(o, key, fixed[i][1]);
			return 0;
		}
	for (i = 0; i < sizeof(declarative) / sizeof(declarative[0]); i++)
		if (strcmp(key, declarative[i]) == 0)
			return 0;
	if (strcmp(key, "SessionType") == 0) {
		c->discovery = strcmp(val, "Discovery") == 0;
	} else if (strcmp(key, "HeaderDigest") == 0 || strcmp(key, "DataDigest") == 0 ||
		   strcmp(key, "AuthMethod") == 0) {
		if (!floor_list_has(val, "None"))
			return -EINVAL;
		floor_out_add(o, key, "None");
	} else if (strcmp(key, "ImmediateData") == 0 || strcmp(key, "InitialR2T") == 0) {
		/* Ours: ImmediateData=Yes (AND), InitialR2T=No (OR): the offer wins. */
		if (!yes && strcmp(val, "No") != 0)
			return -EINVAL;
		if (key[0] == 'I' && key[1] == 'm')
			c->immediate = yes;
		else
			c->initial_r2t = yes;
		floor_out_add(o, key, val);
	} else if (strcmp(key, "MaxBurstLength") == 0 || strcmp(key, "FirstBurstLength") == 0) {
		if (floor_num_parse(val, &v) != 0 || v < 512)
			return -EINVAL;
		if (key[0] == 'M')
			v = c->max_burst = floor_min32(v, 1u << 20);
		else
			v = c->first_burst = floor_min32(v, 256u << 10);
		floor_out_add_u32(o, key, v);
	} else if (strcmp(key, "DefaultTime2Wait") == 0) {
		/* Result function Maximum (13.15): ours is 0, so the offer. */
		if (floor_num_parse(val, &v) != 0)
			return -EINVAL;
		floor_out_add_u32(o, key, v);
	} else if (strcmp(key, "MaxRecvDataSegmentLength") == 0) {
		if (floor_num_parse(val, &v) != 0 || v < 512 || v > 0xffffff)
			return -EINVAL;
		c->mrdsl_out = v;
	} else if (strcmp(key, "SendTargets") == 0 && c->ffp) {
		floor_conn_send_targets(c, o);
	} else {
		floor_out_add(o, key, "NotUnderstood");
	}
	return 0;
}

/* Answer every key=value in c->text; the keys are NUL-separated. */
static int floor_conn_keys(struct floor_conn *c, struct floor_out *o)
{
	uint32_t pos = 0;
	char *pair, *eq;
	int rc = 0;

	c->text[c->text_len] = '\0';
	while (rc == 0 && pos < c->text_len) {
		pair = c->text + pos;
		pos += (uint32_t)strlen(pair) + 1;
		if (pair[0] == '\0')
			continue;
		eq = strchr(pair, '=');
		if (!eq) {
			rc = -EINVAL;
			break;
		}
		*eq = '\0';
		rc = floor_conn_key(c, pair, eq + 1, o);
		if (rc != 0)
			fprintf(stderr, "floor-target: cannot accept %s=%s\n", pair, eq + 1);
	}
	c->text_len = 0;
	return rc != 0 ? rc : o->overflow ? -ENOSPC : 0;
}

/* Append a data segment to c->text (C bit: RFC 7143 11.12.2). */
static int floor_conn_text_take(struct floor_conn *c, const uint8_t *data, uint32_t len)
{
	if (!c->text)
		c->text = calloc(1, FLOOR_TEXT_MAX + 1);
	if (!c->text || len > FLOOR_TEXT_MAX - c->text_len) {
		fprintf(stderr, "floor-target: keys over %u bytes\n", FLOOR_TEXT_MAX);
		return -ENOMEM;
	}
	memcpy(c->text + c->text_len, data, len);
	c->text_len += len;
	return 0;
}

/* Login Request (RFC 7143 11.12, 6.3): any stage order, T without C. */
static int floor_conn_login(struct floor_conn *c, const uint8_t *req, const uint8_t *data,
			    uint32_t dsl)
{
	struct floor_out o = {.len = 0};
	uint8_t h[FLOOR_BHS_LEN], flags = req[1];
	unsigned int csg = (flags >> 2) & 3, nsg = flags & 3;
	bool transit = flags & 0x80, cont = flags & 0x40;
	int rc;

	if (!c->text) { /* first Login Request of the connection */
		memcpy(c->isid, req + 8, 6);
		c->stat_sn = get_be32(req + 28);
		c->exp_cmdsn = get_be32(req + 24);
	}
	rc = floor_conn_text_take(c, data, dsl);
	if (rc == 0 && cont) {
		if (transit)
			rc = -EPROTO;
	} else if (rc == 0) {
		rc = floor_conn_keys(c, &o);
		if (rc == 0 && transit && (nsg <= csg || nsg == 2))
			rc = -EPROTO;
	}
	if (rc == 0 && !cont && !c->tpgt_sent && !c->discovery) {
		floor_out_add(&o, "TargetPortalGroupTag", "1");
		c->tpgt_sent = true;
	}
	if (rc == 0 && !cont && !c->mrdsl_sent && csg == 1) {
		/* An operational key: not in the security stage (RFC 7143 6.3). */
		floor_out_add_u32(&o, "MaxRecvDataSegmentLength", FLOOR_MRDSL);
		c->mrdsl_sent = true;
	}
	floor_conn_bhs_init(c, h, FLOOR_OP_LOGIN_RSP,
			    (uint8_t)(csg << 2 | (transit && !cont ? 0x80 | nsg : 0)),
			    get_be32(req + 16), true);
	memcpy(h + 8, c->isid, 6);
	if (rc != 0) {
		h[1] = 0;
		h[36] = 0x02; /* initiator error (11.13.5); the connection closes */
		o.len = 0;
		fprintf(stderr, "floor-target: login refused (%s)\n", strerror(-rc));
	} else if (transit && !cont && nsg == 3) {
		/* A new session's TSIH, nonzero, in the final response (11.13.4). */
		if (++floor_tsih_last == 0)
			floor_tsih_last = 1;
		put_be16(h + 14, floor_tsih_last);
		c->ffp = true;
	}
	if (o.overflow)
		o.len = 0;
	return floor_conn_send(c, h, o.buf, (uint32_t)o.len) ?: rc;
}

/* Text Request (RFC 7143 11.10), one PDU: SendTargets in discovery. */
static int floor_conn_text(struct floor_conn *c, const uint8_t *req, const uint8_t *data,
			   uint32_t dsl)
{
	struct floor_out o = {.len = 0};
	uint8_t h[FLOOR_BHS_LEN];
	int rc;

	if (req[1] & 0x40) {
		fprintf(stderr, "floor-target: Text Request over several PDUs is not supported\n");
		return -EPROTO;
	}
	rc = floor_conn_text_take(c, data, dsl);
	if (rc == 0)
		rc = floor_conn_keys(c, &o);
	if (rc != 0)
		return rc;
	floor_conn_bhs_init(c, h, FLOOR_OP_TEXT_RSP, 0x80, get_be32(req + 16), true);
	put_be32(h + 20, FLOOR_TAG_NONE);
	return floor_conn_send(c, h, o.buf, (uint32_t)o.len);
}

/* One whole PDU; data NULL when it was dropped. 1: close, no error. */
static int floor_conn_pdu(struct floor_conn *c, const uint8_t *req, const uint8_t *data)
{
	uint8_t h[FLOOR_BHS_LEN], op = req[0] & 0x3f;
	uint32_t dsl = get_be24(req + 5), cmdsn = get_be32(req + 24);
	int i, rc;

	if (!c->ffp && op != FLOOR_OP_LOGIN_REQ) {
		fprintf(stderr, "floor-target: opcode 0x%02x before login\n", op);
		return -EPROTO;
	}
	/* CmdSN (RFC 7143 4.2.2.1): non-immediate commands advance ExpCmdSN. */
	if (op != FLOOR_OP_DATA_OUT && op != FLOOR_OP_LOGIN_REQ && !(req[0] & 0x40) &&
	    (int32_t)(cmdsn - c->exp_cmdsn) >= 0)
		c->exp_cmdsn = cmdsn + 1;
	switch (op) {
	case FLOOR_OP_SCSI_CMD:
		return floor_conn_scsi(c, req, dsl);
	case FLOOR_OP_DATA_OUT:
		return floor_conn_data_out(c, req, dsl);
	case FLOOR_OP_NOP_OUT: /* 11.18: a ping answers with its data */
		if (get_be32(req + 16) == FLOOR_TAG_NONE)
			return 0;
		floor_conn_bhs_init(c, h, FLOOR_OP_NOP_IN, 0x80, get_be32(req + 16), true);
		memcpy(h + 8, req + 8, 8);
		put_be32(h + 20, FLOOR_TAG_NONE);
		return floor_conn_send(c, h, data, dsl);
	case FLOOR_OP_TMF_REQ: /* 11.5: every function completes */
		for (i = 0; i < FLOOR_TASKS_MAX; i++)
			if ((req[1] & 0x7f) != 1 || c->tasks[i].itt == get_be32(req + 20))
				c->tasks[i].used = false;
		floor_conn_bhs_init(c, h, FLOOR_OP_TMF_RSP, 0x80, get_be32(req + 16), true);
		return floor_conn_send(c, h, NULL, 0);
	case FLOOR_OP_LOGIN_REQ:
		if (c->ffp)
			break;
		return floor_conn_login(c, req, data, dsl);
	case FLOOR_OP_TEXT_REQ:
		return floor_conn_text(c, req, data, dsl);
	case FLOOR_OP_LOGOUT_REQ: /* 11.14: success, Time2Wait/Retain 0 */
		floor_conn_bhs_init(c, h, FLOOR_OP_LOGOUT_RSP, 0x80, get_be32(req + 16), true);
		rc = floor_conn_send(c, h, NULL, 0);
		return rc ?: 1;
	default:
		break;
	}
	fprintf(stderr, "floor-target: unexpected opcode 0x%02x\n", op);
	return -EPROTO;
}

/* Handle the whole PDUs in rx; a SCSI Command or Data-Out whose data is
 * still coming is handled once that data has been received and dropped. */
static int floor_conn_parse(struct floor_conn *c)
{
	uint32_t off = 0, left, ahs, dsl, total;
	uint8_t *h, op;
	int rc = 0;

	while (rc == 0 && c->rx_len - off >= FLOOR_BHS_LEN) {
		h = c->rx + off;
		left = c->rx_len - off;
		op = h[0] & 0x3f;
		ahs = h[4] * 4u;
		dsl = get_be24(h + 5);
		if (dsl > FLOOR_MRDSL) {
			fprintf(stderr, "floor-target: data segment of %u bytes\n", dsl);
			rc = -EPROTO;
			break;
		}
		total = FLOOR_BHS_LEN + ahs + ((dsl + 3) & ~3u);
		if (left < total && c->ffp &&
		    (op == FLOOR_OP_SCSI_CMD || op == FLOOR_OP_DATA_OUT)) {
			memcpy(c->skip_hdr, h, FLOOR_BHS_LEN);
			c->skip = total - left;
			off = c->rx_len;
			break;
		}
		if (left < total)
			break;
		rc = floor_conn_pdu(c, h, h + FLOOR_BHS_LEN + ahs);
		off += total;
	}
	if (rc == 0 && off > 0) {
		memmove(c->rx, c->rx + off, c->rx_len - off);
		c->rx_len -= off;
	}
	return rc;
}

/* One recv(); -EAGAIN when nothing came, 1 or -errno to close. */
static int floor_conn_read(struct floor_conn *c)
{
	ssize_t n;
	int rc = 0;

	if (c->skip > 0)
		n = recv(c->fd, floor_scratch, floor_min32(c->skip, sizeof(floor_scratch)),
			 MSG_DONTWAIT);
	else
		n = recv(c->fd, c->rx + c->rx_len, FLOOR_RX_CAP - c->rx_len, MSG_DONTWAIT);
	if (n < 0)
		return errno == EINTR || errno == EWOULDBLOCK ? -EAGAIN : -errno;
	if (n == 0)
		return 1;
	if (c->skip > 0) {
		c->skip -= (uint32_t)n;
		if (c->skip == 0)
			rc = floor_conn_pdu(c, c->skip_hdr, NULL);
		return rc;
	}
	c->rx_len += (uint32_t)n;
	return floor_conn_parse(c);
}

static void floor_conn_destroy(struct floor_conn *c)
{
	if (!c)
		return;
	if (c->fd >= 0)
		close(c->fd);
	free(c->text);
	free(c->rx);
	free(c);
}

static struct floor_conn *floor_conn_create(int fd)
{
	struct floor_conn *c = calloc(1, sizeof(*c));
	int one = 1;

	if (!c)
		goto fail;
	c->fd = fd;
	c->rx = calloc(1, FLOOR_RX_CAP);
	if (!c->rx)
		goto fail;
	/* RFC 7143 defaults (13.12, 13.13, 13.14, 13.10, 13.11). */
	c->mrdsl_out = 8192;
	c->max_burst = 262144;
	c->first_burst = 65536;
	c->initial_r2t = true;
	c->immediate = true;
	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	return c;
fail:
	if (c)
		c->fd = -1;
	floor_conn_destroy(c);
	close(fd);
	return NULL;
}

static void floor_accept(int lfd, struct floor_conn **conns, int *n)
{
	int fd = accept4(lfd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);

	if (fd < 0)
		return;
	if (*n >= FLOOR_CONNS_MAX) {
		fprintf(stderr, "floor-target: over %d connections, closing the new one\n",
			FLOOR_CONNS_MAX);
		close(fd);
		return;
	}
	conns[*n] = floor_conn_create(fd);
	if (conns[*n])
		(*n)++;
}

static void floor_serve(int lfd)
{
	struct floor_conn *conns[FLOOR_CONNS_MAX] = {NULL};
	struct pollfd pfd[FLOOR_CONNS_MAX + 1];
	unsigned int iter = 0;
	bool incoming;
	int n = 0, i, rc;

	while (!floor_stop) {
		pfd[0] = (struct pollfd){.fd = lfd, .events = POLLIN};
		for (i = 0; i < n; i++)
			pfd[i + 1] = (struct pollfd){.fd = conns[i]->fd, .events = POLLIN};
		/* Spin only while a connection is open; look for new ones now and then. */
		incoming = false;
		if (!floor_spin || n == 0 || ++iter % 1024 == 0) {
			if (poll(pfd, (nfds_t)(floor_spin && n > 0 ? 1 : n + 1),
				 floor_spin && n > 0 ? 0 : -1) < 0)
				continue;
			incoming = pfd[0].revents & POLLIN;
		}
		for (i = 0; i < n; i++) {
			if (!floor_spin && !pfd[i + 1].revents)
				continue;
			rc = floor_conn_read(conns[i]);
			if (rc == 0 || rc == -EAGAIN)
				continue;
			if (rc < 0 && rc != -EINTR)
				fprintf(stderr, "floor-target: connection closed: %s\n",
					strerror(-rc));
			floor_conn_destroy(conns[i]);
			conns[i] = conns[--n];
			conns[n] = NULL;
			pfd[i + 1] = pfd[n + 1];
			i--;
		}
		if (incoming)
			floor_accept(lfd, conns, &n);
	}
	for (i = 0; i < n; i++)
		floor_conn_destroy(conns[i]);
}

static int floor_size_parse(const char *s, uint64_t *v)
{
	static const char units[] = "KMGT";
	const char *u;
	char *end;
	unsigned long long n;

	errno = 0;
	n = strtoull(s, &end, 10);
	if (errno != 0 || end == s || n == 0)
		return -EINVAL;
	if (*end != '\0') {
		u = strchr(units, *end);
		if (!u || end[1] != '\0' || n > (UINT64_MAX >> 10 * (u - units + 1)))
			return -EINVAL;
		n <<= 10 * (u - units + 1);
	}
	if (n % 512 != 0)
		return -EINVAL;
	*v = n;
	return 0;
}

int main(int argc, char **argv)
{
	struct sockaddr_in sa = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
	struct sigaction act = {.sa_handler = floor_signal_catch};
	unsigned long port = 0;
	char *end;
	int c, lfd = -1, one = 1, rc = 2;

	while ((c = getopt(argc, argv, "p:s:m:h")) != -1) {
		switch (c) {
		case 'p':
			errno = 0;
			port = strtoul(optarg, &end, 10);
			if (errno != 0 || end == optarg || *end != '\0' || port > 65535)
				port = 0;
			break;
		case 's':
			if (floor_size_parse(optarg, &floor_lun_bytes) != 0)
				goto usage;
			break;
		case 'm':
			if (strcmp(optarg, "spin") != 0 && strcmp(optarg, "block") != 0)
				goto usage;
			floor_spin = optarg[0] == 's';
			break;
		default:
			goto usage;
		}
	}
	if (port == 0 || optind != argc)
		goto usage;
	sigaction(SIGTERM, &act, NULL);
	sigaction(SIGINT, &act, NULL);
	signal(SIGPIPE, SIG_IGN);
	sa.sin_port = htons((uint16_t)port);
	lfd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (lfd < 0 || setsockopt(lfd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) < 0 ||
	    bind(lfd, (struct sockaddr *)&sa, sizeof(sa)) < 0 || listen(lfd, 64) < 0) {
		fprintf(stderr, "floor-target: cannot listen on 127.0.0.1:%lu: %s\n", port,
			strerror(errno));
		rc = 1;
		goto out;
	}
	floor_serve(lfd);
	rc = 0;
	goto out;
usage:
	fprintf(stderr, "usage: floor-target -p PORT [-s SIZE] [-m spin|block]\n");
out:
	if (lfd >= 0)
		close(lfd);
	return rc;
}
