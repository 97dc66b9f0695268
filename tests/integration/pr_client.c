/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * pr_client: replay a persistent reservation scenario through libiscsi and
 * print what the target answered, one line per step, for the pr_*.sh tests.
 *
 *   pr_client PORTAL TARGET LUN NAME_A [NAME_B [NAME_C]] < SCRIPT
 *
 * Nodes A, B, C are initiators named NAME_A.. with a fixed ISID each
 * (EN format, 0x4000023d000N), logged in on first use. Each SCRIPT line is
 * "NODE OP ARGS" (keys and types as numbers, 0x... allowed; # comments):
 *   register OLD NEW [aptpl]    PR OUT REGISTER
 *   register-ignore NEW [aptpl] PR OUT REGISTER AND IGNORE EXISTING KEY
 *   reserve KEY TYPE            release KEY TYPE        clear KEY
 *   preempt KEY SAKEY TYPE      preempt-abort KEY SAKEY TYPE
 *   read-keys  read-reservation  read-full-status  tur  read  write
 *   reserve6  release6  logout  login
 *   uas         log in keeping the unit attentions a new nexus has, then
 *               TEST UNIT READY until GOOD (at most 8), printing each status
 * Output: "NODE OP: STATUS" with STATUS GOOD, RESERVATION_CONFLICT, BUSY or
 * CHECK_CONDITION k/asc-ascq; data of the PR IN service actions follows:
 *   read-keys: "gen=N keys=K1,K2" ; read-reservation: "gen=N key=K type=T"
 *   or "gen=N none" ; read-full-status: "gen=N" then per registration
 *   "key=K holder=0|1 type=T port=NAME,i,0xISID"; uas: "NODE uas: S1 S2 ..."
 *   (each status as above, sense as k/ascq only, e.g. "6/2a05 GOOD").
 * Exit status 0 when every line ran (whatever the SCSI status), 2 on a
 * usage or transport error.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <iscsi/iscsi.h>
#include <iscsi/scsi-lowlevel.h>

#define PRC_NODES 3

struct prc {
	const char *portal;
	const char *target;
	int lun;
	const char *names[PRC_NODES];
	struct iscsi_context *ctx[PRC_NODES];
};

static int prc_num(const char *s, uint64_t *v)
{
	char *end;

	if (!s)
		return -1;
	*v = strtoull(s, &end, 0);
	return *end ? -1 : 0;
}

/* Log node n in. With keep_ua, no LUN is given to libiscsi, which then
 * does not take the new nexus' unit attentions with TEST UNIT READYs. */
static int prc_connect(struct prc *p, int n, int keep_ua)
{
	struct iscsi_context *c;

	if (p->ctx[n])
		return 0;
	if (!p->names[n]) {
		fprintf(stderr, "node %c has no initiator name\n", 'A' + n);
		return -1;
	}
	c = iscsi_create_context(p->names[n]);
	if (!c)
		return -1;
	iscsi_set_isid_en(c, 0x23d, (uint32_t)n + 1);
	iscsi_set_targetname(c, p->target);
	iscsi_set_session_type(c, ISCSI_SESSION_NORMAL);
	iscsi_set_header_digest(c, ISCSI_HEADER_DIGEST_NONE);
	iscsi_set_noautoreconnect(c, 1);
	if (iscsi_full_connect_sync(c, p->portal, keep_ua ? -1 : p->lun) != 0) {
		fprintf(stderr, "login of %s failed: %s\n", p->names[n], iscsi_get_error(c));
		iscsi_destroy_context(c);
		return -1;
	}
	p->ctx[n] = c;
	return 0;
}

static int prc_login(struct prc *p, int n)
{
	struct iscsi_context *c;
	struct scsi_task *t;
	int i, good;

	if (p->ctx[n])
		return 0;
	if (prc_connect(p, n, 0) < 0)
		return -1;
	c = p->ctx[n];
	/* A new nexus has a POWER ON unit attention pending: take it. */
	for (i = 0; i < 5; i++) {
		t = iscsi_testunitready_sync(c, p->lun);
		good = t && t->status == SCSI_STATUS_GOOD;
		if (t)
			scsi_free_scsi_task(t);
		if (good)
			break;
	}
	return 0;
}

/* "uas": the unit attentions node n's nexus reports, in order. */
static int prc_uas(struct prc *p, int n, const char *what)
{
	struct scsi_task *t;
	int i, good = 0;

	if (prc_connect(p, n, 1) < 0)
		return -1;
	printf("%s:", what);
	for (i = 0; i < 8 && !good; i++) {
		t = iscsi_testunitready_sync(p->ctx[n], p->lun);
		if (!t) {
			printf(" NO_RESPONSE\n");
			return -1;
		}
		good = t->status == SCSI_STATUS_GOOD;
		if (t->status == SCSI_STATUS_CHECK_CONDITION)
			printf(" %x/%04x", (unsigned int)t->sense.key, (unsigned int)t->sense.ascq);
		else
			printf(" %s", good ? "GOOD" : "OTHER");
		scsi_free_scsi_task(t);
	}
	printf("\n");
	fflush(stdout);
	return 0;
}

static void prc_logout(struct prc *p, int n)
{
	if (!p->ctx[n])
		return;
	iscsi_logout_sync(p->ctx[n]);
	iscsi_destroy_context(p->ctx[n]);
	p->ctx[n] = NULL;
}

static void prc_status(const char *what, struct scsi_task *t)
{
	printf("%s: ", what);
	if (!t) {
		printf("NO_RESPONSE\n");
		return;
	}
	switch (t->status) {
	case SCSI_STATUS_GOOD:
		printf("GOOD");
		break;
	case SCSI_STATUS_RESERVATION_CONFLICT:
		printf("RESERVATION_CONFLICT");
		break;
	case SCSI_STATUS_BUSY:
		printf("BUSY");
		break;
	case SCSI_STATUS_CHECK_CONDITION:
		printf("CHECK_CONDITION %x/%04x", (unsigned int)t->sense.key,
		       (unsigned int)t->sense.ascq);
		break;
	default:
		printf("STATUS_0x%02x", (unsigned int)t->status);
		break;
	}
}

static void prc_read_full_status(const struct scsi_task *t)
{
	const unsigned char *d = t->datain.data;
	size_t len = (size_t)t->datain.size, off = 8, dl;
	char port[300];

	if (len < 8)
		return;
	printf(" gen=%u", (unsigned int)(d[0] << 24 | d[1] << 16 | d[2] << 8 | d[3]));
	while (off + 24 <= len) {
		uint64_t key = 0;
		int i;

		for (i = 0; i < 8; i++)
			key = key << 8 | d[off + i];
		dl = (size_t)d[off + 20] << 24 | (size_t)d[off + 21] << 16 |
		     (size_t)d[off + 22] << 8 | d[off + 23];
		port[0] = '\0';
		if (dl > 4 && off + 24 + dl <= len)
			snprintf(port, sizeof(port), "%.*s", (int)(dl - 4), d + off + 28);
		printf("\n  key=0x%" PRIx64 " holder=%d type=%d port=%s", key, d[off + 12] & 1,
		       d[off + 13] & 0x0f, port);
		off += 24 + dl;
	}
}

static struct scsi_task *prc_pr_in(struct iscsi_context *c, int lun, int sa)
{
	struct scsi_task *t = iscsi_persistent_reserve_in_sync(c, lun, sa, 8192);

	return t;
}

static void prc_pr_in_print(int sa, struct scsi_task *t)
{
	struct scsi_persistent_reserve_in_read_keys *rk;
	struct scsi_persistent_reserve_in_read_reservation *rr;
	int i;

	if (!t || t->status != SCSI_STATUS_GOOD)
		return;
	if (sa == SCSI_PERSISTENT_RESERVE_READ_FULL_STATUS) {
		prc_read_full_status(t);
		return;
	}
	if (sa == SCSI_PERSISTENT_RESERVE_READ_KEYS) {
		rk = scsi_datain_unmarshall(t);
		if (!rk)
			return;
		printf(" gen=%u keys=", rk->prgeneration);
		for (i = 0; i < rk->num_keys; i++)
			printf("%s0x%" PRIx64, i ? "," : "", rk->keys[i]);
		return;
	}
	rr = scsi_datain_unmarshall(t);
	if (!rr)
		return;
	if (rr->reserved)
		printf(" gen=%u key=0x%" PRIx64 " type=%d", rr->prgeneration, rr->reservation_key,
		       rr->pr_type);
	else
		printf(" gen=%u none", rr->prgeneration);
}

static struct scsi_task *prc_raw(struct iscsi_context *c, int lun, unsigned char *cdb, int len)
{
	struct scsi_task *t = scsi_create_task(len, cdb, SCSI_XFER_NONE, 0), *r;

	if (!t)
		return NULL;
	r = iscsi_scsi_command_sync(c, lun, t, NULL);
	if (!r)
		scsi_free_scsi_task(t);
	return r;
}

/* The next blank-separated word of *s (NUL terminated in place), or NULL. */
static char *prc_word(char **s)
{
	char *w = *s + strspn(*s, " \t\n");
	size_t n = strcspn(w, " \t\n");

	if (!n)
		return NULL;
	*s = w + n + (w[n] ? 1 : 0);
	w[n] = '\0';
	return w;
}

/* One script line. \return 0, or -1 on a transport or usage error. */
static int prc_step(struct prc *p, char *line)
{
	char *node = prc_word(&line), *op = prc_word(&line), *a1 = prc_word(&line);
	char *a2 = prc_word(&line), *a3 = prc_word(&line);
	struct scsi_persistent_reserve_out_basic po;
	struct scsi_task *t = NULL;
	unsigned char buf[512] = {0}, cdb6[6] = {0};
	char what[128];
	uint64_t v1 = 0, v2 = 0, v3 = 0;
	int n, sa = -1, type = 0;
	struct iscsi_context *c;

	if (!node || node[0] == '#')
		return 0;
	n = node[0] - 'A';
	if (!op || n < 0 || n >= PRC_NODES || node[1]) {
		fprintf(stderr, "bad line: %s\n", node);
		return -1;
	}
	snprintf(what, sizeof(what), "%s %s", node, op);
	if (strcmp(op, "uas") == 0)
		return prc_uas(p, n, what);
	if (strcmp(op, "logout") == 0) {
		prc_logout(p, n);
		printf("%s: GOOD\n", what);
		return 0;
	}
	if (prc_login(p, n) < 0)
		return -1;
	c = p->ctx[n];
	if (strcmp(op, "login") == 0) {
		printf("%s: GOOD\n", what);
		return 0;
	}
	memset(&po, 0, sizeof(po));
	prc_num(a1, &v1);
	prc_num(a2, &v2);
	prc_num(a3, &v3);
	if (strcmp(op, "register") == 0) {
		sa = SCSI_PERSISTENT_RESERVE_REGISTER;
		po.reservation_key = v1;
		po.service_action_reservation_key = v2;
		po.aptpl = a3 && strcmp(a3, "aptpl") == 0;
	} else if (strcmp(op, "register-ignore") == 0) {
		sa = SCSI_PERSISTENT_RESERVE_REGISTER_AND_IGNORE_EXISTING_KEY;
		po.service_action_reservation_key = v1;
		po.aptpl = a2 && strcmp(a2, "aptpl") == 0;
	} else if (strcmp(op, "reserve") == 0 || strcmp(op, "release") == 0) {
		sa = op[2] == 's' ? SCSI_PERSISTENT_RESERVE_RESERVE
				  : SCSI_PERSISTENT_RESERVE_RELEASE;
		po.reservation_key = v1;
		type = (int)v2;
	} else if (strcmp(op, "clear") == 0) {
		sa = SCSI_PERSISTENT_RESERVE_CLEAR;
		po.reservation_key = v1;
	} else if (strcmp(op, "preempt") == 0 || strcmp(op, "preempt-abort") == 0) {
		sa = op[7] ? SCSI_PERSISTENT_RESERVE_PREEMPT_AND_ABORT
			   : SCSI_PERSISTENT_RESERVE_PREEMPT;
		po.reservation_key = v1;
		po.service_action_reservation_key = v2;
		type = (int)v3;
	}
	if (sa >= 0) {
		t = iscsi_persistent_reserve_out_sync(c, p->lun, sa, 0, type, &po);
		prc_status(what, t);
	} else if (strcmp(op, "read-keys") == 0 || strcmp(op, "read-reservation") == 0 ||
		   strcmp(op, "read-full-status") == 0) {
		sa = op[5] == 'k'   ? SCSI_PERSISTENT_RESERVE_READ_KEYS
		     : op[5] == 'r' ? SCSI_PERSISTENT_RESERVE_READ_RESERVATION
				    : SCSI_PERSISTENT_RESERVE_READ_FULL_STATUS;
		t = prc_pr_in(c, p->lun, sa);
		prc_status(what, t);
		prc_pr_in_print(sa, t);
	} else if (strcmp(op, "tur") == 0) {
		t = iscsi_testunitready_sync(c, p->lun);
		prc_status(what, t);
	} else if (strcmp(op, "read") == 0) {
		t = iscsi_read10_sync(c, p->lun, 0, 512, 512, 0, 0, 0, 0, 0);
		prc_status(what, t);
	} else if (strcmp(op, "write") == 0) {
		t = iscsi_write10_sync(c, p->lun, 0, buf, 512, 512, 0, 0, 0, 0, 0);
		prc_status(what, t);
	} else if (strcmp(op, "reserve6") == 0 || strcmp(op, "release6") == 0) {
		cdb6[0] = op[2] == 's' ? 0x16 : 0x17;
		t = prc_raw(c, p->lun, cdb6, sizeof(cdb6));
		prc_status(what, t);
	} else {
		fprintf(stderr, "unknown op %s\n", op);
		return -1;
	}
	printf("\n");
	fflush(stdout);
	if (!t)
		return -1;
	scsi_free_scsi_task(t);
	return 0;
}

int main(int argc, char **argv)
{
	struct prc p = {0};
	char line[1024];
	uint64_t lun;
	int i, ret = 0;

	if (argc < 5 || argc > 4 + PRC_NODES || prc_num(argv[3], &lun) < 0 || lun > 255) {
		fprintf(stderr, "usage: %s PORTAL TARGET LUN NAME_A [NAME_B [NAME_C]] < SCRIPT\n",
			argv[0]);
		return 2;
	}
	p.portal = argv[1];
	p.target = argv[2];
	p.lun = (int)lun;
	for (i = 4; i < argc; i++)
		p.names[i - 4] = argv[i];
	while (ret == 0 && fgets(line, sizeof(line), stdin))
		ret = prc_step(&p, line);
	for (i = 0; i < PRC_NODES; i++)
		prc_logout(&p, i);
	return ret ? 2 : 0;
}
