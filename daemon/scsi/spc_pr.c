/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * PERSISTENT RESERVE IN / OUT (SPC-4 6.15, 6.16), SPC-2 RESERVE / RELEASE,
 * the reservation check of the dispatch path, and the SCSI side of the PR
 * commit interface (pr_commit.h): the local committer, scsi_pr_deliver(),
 * snapshots, APTPL state in state_dir.
 *
 * Every state change goes through the committer as an encoded pr_cmd, so
 * the same code runs standalone and in a cluster. Replication position:
 * scsi_pr_deliver() counts every message delivered (one global counter,
 * whether it applies or not, as ha/repl.c counts them); ha/ overrides it
 * with scsi_pr_position_set(). The APTPL files carry (epoch, generation)
 * of the message that wrote them.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <qb/qblog.h>

#include "scsi/pr.h"
#include "scsi/pr_commit.h"
#include "scsi/scsi_int.h"
#include "util/be.h"

_Static_assert(PR_PORT_MAX == SCSI_PORT_NAME_MAX, "nexus port buffers differ");

/* Reservation UAs kept for nexuses not connected here, all LUs together. */
#define SCSI_PR_UA_PENDING_MAX 1024

static char *scsi_pr_dir;
static uint64_t scsi_pr_epoch;
static uint64_t scsi_pr_generation;
static scsi_abort_nexus_fn scsi_pr_abort_fn;
static void *scsi_pr_abort_ctx;
/* Reservation UAs for nexuses without a slot here (pr.h), created on first use. */
static struct pr_ua_pending *scsi_pr_pending;

static int scsi_pr_local_submit(void *ctx, const uint8_t *msg, size_t len, scsi_pr_done_fn done,
				void *arg);
static const struct scsi_pr_committer scsi_pr_local = {scsi_pr_local_submit, NULL};
static const struct scsi_pr_committer *scsi_pr_committer = &scsi_pr_local;

void scsi_pr_committer_set(const struct scsi_pr_committer *c)
{
	scsi_pr_committer = c ? c : &scsi_pr_local;
}

void scsi_pr_state_dir_set(const char *dir)
{
	free(scsi_pr_dir);
	scsi_pr_dir = dir ? strdup(dir) : NULL;
	if (dir && !scsi_pr_dir)
		qb_log(LOG_ERR, "out of memory: APTPL disabled");
}

void scsi_pr_position_set(uint64_t epoch, uint64_t generation)
{
	scsi_pr_epoch = epoch;
	scsi_pr_generation = generation;
}

void scsi_pr_position_get(uint64_t *epoch, uint64_t *generation)
{
	*epoch = scsi_pr_epoch;
	*generation = scsi_pr_generation;
}

void scsi_abort_hook_set(scsi_abort_nexus_fn fn, void *ctx)
{
	scsi_pr_abort_fn = fn;
	scsi_pr_abort_ctx = ctx;
}

static void scsi_pr_nexus_of(const struct scsi_itn_id *id, struct pr_nexus *n)
{
	memset(n, 0, sizeof(*n));
	memcpy(n->port, id->initiator_port, sizeof(n->port));
	n->port[sizeof(n->port) - 1] = '\0';
	n->rtpi = id->rtpi;
}

static struct pr_caps scsi_pr_caps(void)
{
	return (struct pr_caps){.ptpl = scsi_pr_dir != NULL};
}

/* The one place that turns a pr_status into a sense reason. */
static enum sense_reason scsi_pr_reason(const struct pr_result *res, struct sense_field *field)
{
	memset(field, 0, sizeof(*field));
	if (res->field_valid) {
		field->valid = true;
		field->in_cdb = res->field_in_cdb;
		field->byte = res->field_byte;
		field->bit = res->field_bit;
	}
	switch (res->status) {
	case PR_OK:
		return SENSE_OK;
	case PR_CONFLICT:
		return SENSE_RESERVATION_CONFLICT;
	case PR_BAD_CDB:
		return SENSE_INVALID_FIELD_IN_CDB;
	case PR_BAD_PARAM:
		return SENSE_INVALID_FIELD_IN_PARAM;
	case PR_BAD_PARAM_LEN:
		return SENSE_PARAM_LIST_LENGTH_ERROR;
	case PR_INVALID_RELEASE:
		field->valid = false;
		return SENSE_INVALID_RELEASE_OF_PR;
	case PR_NO_RESOURCES:
	default:
		/* SPC-4 wants 5/55/04 INSUFFICIENT REGISTRATION RESOURCES (no reason yet). */
		field->valid = false;
		return SENSE_INTERNAL_FAILURE;
	}
}

static void scsi_pr_result_set(struct scsi_pr_result *out, enum sense_reason r,
			       const struct sense_field *field)
{
	memset(out, 0, sizeof(*out));
	out->status = sense_status(r);
	if (out->status == SCSI_STATUS_CHECK_CONDITION)
		out->sense_len =
			(uint8_t)sense_build(r, field, false, out->sense, sizeof(out->sense));
}

/* The reverse, for a result that comes back through the committer. */
static enum sense_reason scsi_pr_result_reason(const struct scsi_pr_result *res,
					       struct sense_field *field)
{
	uint8_t s[SENSE_FIXED_LEN];
	int r;

	memset(field, 0, sizeof(*field));
	switch (res->status) {
	case SCSI_STATUS_GOOD:
		return SENSE_OK;
	case SCSI_STATUS_RESERVATION_CONFLICT:
		return SENSE_RESERVATION_CONFLICT;
	case SCSI_STATUS_CHECK_CONDITION:
		break;
	default:
		return SENSE_BUSY;
	}
	if (res->sense_len >= SENSE_FIXED_LEN && (res->sense[15] & 0x80)) {
		field->valid = true;
		field->in_cdb = res->sense[15] & 0x40;
		field->bit = (res->sense[15] & 0x08) ? (int8_t)(res->sense[15] & 0x07) : -1;
		field->byte = get_be16(res->sense + 16);
	}
	for (r = SENSE_INVALID_OPCODE; r < SENSE_REASON_COUNT; r++) {
		if (sense_build((enum sense_reason)r, NULL, false, s, sizeof(s)) < 14)
			continue;
		if (res->sense_len >= 14 && (s[2] & 0x0f) == (res->sense[2] & 0x0f) &&
		    s[12] == res->sense[12] && s[13] == res->sense[13])
			return (enum sense_reason)r;
	}
	return SENSE_INTERNAL_FAILURE;
}

/* ---- reservation check in the dispatch path ---------------------------- */

/*
 * The class of a command for SPC-4 5.12.1 Table 63 and SBC-3 4.17 Table 13:
 * from the dispatch flags, and for the few commands whose class depends on
 * their CDB, from the CDB.
 */
static enum pr_class scsi_pr_class(const struct scsi_opcode *op, const uint8_t *cdb)
{
	if (op->flags & SCSI_OP_PR_ALLOWED)
		return PR_CLASS_ALLOWED;
	if (op->flags & SCSI_OP_PR_CMD)
		return PR_CLASS_PR;
	/* COMPARE AND WRITE, ORWRITE read and write: they conflict as writes. */
	if (op->flags & SCSI_OP_WRITES_MEDIUM)
		return PR_CLASS_WRITE;
	if (op->flags & SCSI_OP_READS_MEDIUM)
		return PR_CLASS_READ;
	switch (cdb[0]) {
	case 0x1b: /* START STOP UNIT with START=1 and no power condition */
		return (cdb[4] & 0x01) && !(cdb[4] & 0xf0) ? PR_CLASS_ALLOWED : PR_CLASS_WRITE;
	case 0x1e: /* PREVENT ALLOW MEDIUM REMOVAL with PREVENT=0 */
		return (cdb[4] & 0x03) ? PR_CLASS_WRITE : PR_CLASS_ALLOWED;
	case 0x9e: /* GET LBA STATUS reads; READ CAPACITY(16) is allowed */
		return (cdb[1] & 0x1f) == 0x12 ? PR_CLASS_READ : PR_CLASS_ALLOWED;
	case 0xa3: /* REPORT SUPPORTED OPERATION CODES / TASK MANAGEMENT FUNCTIONS */
		return PR_CLASS_ALLOWED;
	default:
		return PR_CLASS_WRITE;
	}
}

enum sense_reason scsi_pr_check(struct scsi_cmd *cmd)
{
	const struct scsi_task *task = cmd->task;
	struct pr_nexus n;

	if (!cmd->lu || !cmd->lu->pr || !task->itn || (cmd->op->flags & SCSI_OP_PR_OWN))
		return SENSE_OK;
	scsi_pr_nexus_of(&task->itn->id, &n);
	return pr_check(cmd->lu->pr, &n, scsi_pr_class(cmd->op, task->cdb))
		       ? SENSE_RESERVATION_CONFLICT
		       : SENSE_OK;
}

/* ---- PERSISTENT RESERVE IN (SPC-4 6.15) -------------------------------- */

enum sense_reason spc_cmd_pr_in(struct scsi_cmd *cmd)
{
	const uint8_t *cdb = cmd->task->cdb;
	struct pr_caps caps = scsi_pr_caps();
	uint8_t *data = NULL;
	size_t len = 0;
	enum sense_reason r;

	if (pr_in_build(cmd->lu->pr, cdb[1] & 0x1f, &caps, &data, &len) < 0) {
		r = (cdb[1] & 0x1f) > PR_IN_READ_FULL_STATUS ? scsi_cmd_bad_field(cmd, 1, 4)
							     : SENSE_BUSY;
		goto out;
	}
	r = scsi_cmd_data_in_bytes(cmd, data, len, get_be16(cdb + 7));
out:
	free(data);
	return r;
}

/* ---- committing a command ---------------------------------------------- */

struct scsi_pr_wait {
	struct scsi_task *task;
	bool in_submit;
	bool done;
	struct scsi_pr_result res;
};

static void scsi_pr_task_done(void *arg, const struct scsi_pr_result *res)
{
	struct scsi_pr_wait *w = arg;
	struct sense_field field;
	enum sense_reason r;

	if (w->in_submit) {
		/* Completed inside submit(): the handler returns the reason. */
		w->res = *res;
		w->done = true;
		return;
	}
	/* Back to a reason, so that the LU's sense format (D_SENSE) applies. */
	r = scsi_pr_result_reason(res, &field);
	scsi_task_finish(w->task, r, &field);
}

static void scsi_pr_ignore_done(void *arg, const struct scsi_pr_result *res)
{
}

/* Encode \p c for the LU and hand it to the committer. */
static enum sense_reason scsi_pr_submit(struct scsi_cmd *cmd, struct pr_cmd *c)
{
	struct scsi_task *task = cmd->task;
	struct scsi_pr_wait *w = NULL;
	enum sense_reason r = SENSE_BUSY;
	uint8_t *msg = NULL;
	size_t len;

	memcpy(c->lu_id, cmd->lu->naa, cmd->lu->naa_len);
	c->lu_id_len = cmd->lu->naa_len;
	w = calloc(1, sizeof(*w));
	if (!w || pr_cmd_encode(c, &msg, &len) < 0)
		goto out;
	w->task = task;
	w->in_submit = true;
	if (scsi_pr_committer->submit(scsi_pr_committer->ctx, msg, len, scsi_pr_task_done, w) < 0)
		goto out;
	w->in_submit = false;
	if (w->done) {
		r = scsi_pr_result_reason(&w->res, &cmd->field);
		goto out;
	}
	/* Completes through scsi_pr_task_done(); the task frees w. */
	task->priv = w;
	w = NULL;
	r = SENSE_ASYNC;
out:
	free(msg);
	free(w);
	return r;
}

/* Fire and forget (nexus loss, LU reset). */
static void scsi_pr_submit_event(struct scsi_lu *lu, enum pr_cmd_kind kind,
				 const struct scsi_itn_id *id)
{
	struct pr_cmd c = {.kind = (uint8_t)kind};
	uint8_t *msg = NULL;
	size_t len;

	if (id)
		scsi_pr_nexus_of(id, &c.nexus);
	else
		snprintf(c.nexus.port, sizeof(c.nexus.port), "%s", "lu-reset");
	memcpy(c.lu_id, lu->naa, lu->naa_len);
	c.lu_id_len = lu->naa_len;
	if (pr_cmd_encode(&c, &msg, &len) < 0 ||
	    scsi_pr_committer->submit(scsi_pr_committer->ctx, msg, len, scsi_pr_ignore_done, NULL) <
		    0)
		qb_log(LOG_ERR, "cannot commit the release of the SPC-2 reservation of %s",
		       lu->path);
	free(msg);
}

void scsi_lu_pr_itn_gone(struct scsi_lu *lu, const struct scsi_itn_id *id)
{
	struct pr_nexus n;

	scsi_pr_nexus_of(id, &n);
	if (lu->pr && lu->pr->spc2_reserved && lu->pr->spc2_holder.rtpi == n.rtpi &&
	    strcmp(lu->pr->spc2_holder.port, n.port) == 0)
		scsi_pr_submit_event(lu, PR_CMD_NEXUS_LOSS, id);
}

void scsi_lu_pr_reset(struct scsi_lu *lu)
{
	if (lu->pr && lu->pr->spc2_reserved)
		scsi_pr_submit_event(lu, PR_CMD_LU_RESET, NULL);
}

/* ---- PERSISTENT RESERVE OUT, RESERVE, RELEASE -------------------------- */

enum sense_reason spc_cmd_pr_out(struct scsi_cmd *cmd)
{
	const struct scsi_task *task = cmd->task;
	struct pr_caps caps = scsi_pr_caps();
	struct pr_result res;
	struct pr_nexus n;
	struct pr_cmd c;
	enum sense_reason r;
	int ret;

	if (!task->itn)
		return SENSE_INTERNAL_FAILURE;
	scsi_pr_nexus_of(&task->itn->id, &n);
	ret = pr_out_parse(task->cdb, task->out_buf, task->out_buf ? task->out_len : 0, &n, &caps,
			   &c, &res);
	if (ret == -ENOMEM)
		return SENSE_BUSY;
	if (ret < 0)
		return scsi_pr_reason(&res, &cmd->field);
	r = scsi_pr_submit(cmd, &c);
	pr_cmd_release(&c);
	return r;
}

/* SPC-2 7.21 / 7.22 RESERVE(6)/(10), 7.17 / 7.18 RELEASE(6)/(10). */
static enum sense_reason spc_cmd_spc2(struct scsi_cmd *cmd, enum pr_cmd_kind kind)
{
	const struct scsi_task *task = cmd->task;
	struct pr_cmd c = {.kind = (uint8_t)kind};

	if (!task->itn)
		return SENSE_INTERNAL_FAILURE;
	/* No third-party reservations, no extents, no long IDs. */
	if (task->cdb[1])
		return scsi_cmd_bad_field(cmd, 1, -1);
	scsi_pr_nexus_of(&task->itn->id, &c.nexus);
	return scsi_pr_submit(cmd, &c);
}

enum sense_reason spc_cmd_reserve(struct scsi_cmd *cmd)
{
	return spc_cmd_spc2(cmd, PR_CMD_RESERVE);
}

enum sense_reason spc_cmd_release(struct scsi_cmd *cmd)
{
	return spc_cmd_spc2(cmd, PR_CMD_RELEASE);
}

/* ---- unit attentions for nexuses not connected here ------------------- */

static enum sense_reason scsi_pr_ua_reason(uint8_t ascq)
{
	switch (ascq) {
	case PR_UA_RESERVATIONS_PREEMPTED:
		return SENSE_UA_RESERVATIONS_PREEMPTED;
	case PR_UA_RESERVATIONS_RELEASED:
		return SENSE_UA_RESERVATIONS_RELEASED;
	default:
		return SENSE_UA_REGISTRATIONS_PREEMPTED;
	}
}

static uint8_t scsi_pr_ua_ascq(uint8_t reason)
{
	switch (reason) {
	case SENSE_UA_RESERVATIONS_PREEMPTED:
		return PR_UA_RESERVATIONS_PREEMPTED;
	case SENSE_UA_RESERVATIONS_RELEASED:
		return PR_UA_RESERVATIONS_RELEASED;
	case SENSE_UA_REGISTRATIONS_PREEMPTED:
		return PR_UA_REGISTRATIONS_PREEMPTED;
	default:
		return 0;
	}
}

/* Keep \p ua of \p lu for a nexus that is not connected here. */
static void scsi_pr_ua_keep(const struct scsi_lu *lu, const struct pr_ua_entry *ua)
{
	int ret = -ENOMEM;

	if (!scsi_pr_pending)
		scsi_pr_pending = pr_ua_pending_create(SCSI_PR_UA_PENDING_MAX);
	if (scsi_pr_pending)
		ret = pr_ua_pending_add(scsi_pr_pending, lu->naa, lu->naa_len, ua);
	if (ret == 1)
		qb_log(LOG_WARNING,
		       "%s: %d unit attentions kept for nexuses not connected here: the oldest "
		       "dropped",
		       lu->path, SCSI_PR_UA_PENDING_MAX);
	else if (ret < 0)
		qb_log(LOG_ERR, "%s: unit attention 2A/%02X for %s rtpi %u lost: %s", lu->path,
		       ua->ascq, ua->nexus.port, ua->nexus.rtpi, strerror(-ret));
	else
		qb_log(LOG_DEBUG, "%s: unit attention 2A/%02X kept for %s rtpi %u until it logs in",
		       lu->path, ua->ascq, ua->nexus.port, ua->nexus.rtpi);
}

void scsi_pr_ua_pending_deliver(struct scsi_lu *lu, struct scsi_ua_slot *slot)
{
	uint8_t ascq[SCSI_UA_QUEUE_MAX];
	struct pr_nexus n;
	size_t i, count;

	if (!pr_ua_pending_count(scsi_pr_pending))
		return;
	scsi_pr_nexus_of(&slot->id, &n);
	count = pr_ua_pending_take(scsi_pr_pending, lu->naa, lu->naa_len, &n, ascq,
				   SCSI_UA_QUEUE_MAX - 1);
	for (i = 0; i < count; i++)
		scsi_ua_slot_queue(slot, scsi_pr_ua_reason(ascq[i]));
	if (count)
		qb_log(LOG_NOTICE,
		       "%s: %zu reservation unit attention(s) kept for %s rtpi %u while it was not "
		       "connected here: queued",
		       lu->path, count, n.port, n.rtpi);
}

/* The kept UAs and those queued for connected nexuses and not yet reported:
 * what a joining member must keep (it has no nexus connected). */
static int scsi_pr_ua_snapshot(struct pr_ua_pending **out)
{
	struct pr_ua_entry ua;
	struct scsi_lu *lu;
	size_t i, k;
	int ret;

	if (scsi_pr_pending)
		ret = pr_ua_pending_clone(scsi_pr_pending, out);
	else
		ret = (*out = pr_ua_pending_create(SCSI_PR_UA_PENDING_MAX)) ? 0 : -ENOMEM;
	for (lu = scsi_lu_next(NULL); lu && ret == 0; lu = scsi_lu_next(lu)) {
		for (i = 0; i < lu->ua_count && ret == 0; i++) {
			for (k = 0; k < lu->ua[i].count && ret == 0; k++) {
				memset(&ua, 0, sizeof(ua));
				ua.ascq = scsi_pr_ua_ascq(lu->ua[i].queue[k]);
				if (!ua.ascq)
					continue;
				scsi_pr_nexus_of(&lu->ua[i].id, &ua.nexus);
				ret = pr_ua_pending_add(*out, lu->naa, lu->naa_len, &ua);
				ret = ret == 1 ? 0 : ret;
			}
		}
	}
	if (ret < 0) {
		pr_ua_pending_destroy(*out);
		*out = NULL;
	}
	return ret;
}

/* ---- applying a message (pr_commit.h) ---------------------------------- */

static void scsi_pr_effects(struct scsi_lu *lu, const struct pr_result *res)
{
	static const enum sense_reason ua_reason[] = {
		[PR_UA_RESERVATIONS_PREEMPTED] = SENSE_UA_RESERVATIONS_PREEMPTED,
		[PR_UA_RESERVATIONS_RELEASED] = SENSE_UA_RESERVATIONS_RELEASED,
		[PR_UA_REGISTRATIONS_PREEMPTED] = SENSE_UA_REGISTRATIONS_PREEMPTED,
	};
	struct scsi_itn_id id;
	size_t i, j;

	/* A UA goes to every I_T nexus of the initiator port (node-wide
	 * registrations: of every port of the node). One that reaches no
	 * nexus connected here is kept until the nexus logs in. */
	for (i = 0; i < res->nuas; i++) {
		bool queued = false;

		for (j = 0; j < lu->ua_count; j++) {
			if (lu->ua[j].id.rtpi == res->uas[i].nexus.rtpi &&
			    pr_port_covers(res->uas[i].nexus.port, lu->ua[j].id.initiator_port)) {
				scsi_ua_slot_queue(&lu->ua[j], ua_reason[res->uas[i].ascq]);
				queued = true;
			}
		}
		if (!queued)
			scsi_pr_ua_keep(lu, &res->uas[i]);
	}
	if (!scsi_pr_abort_fn)
		return;
	for (i = 0; i < res->naborts; i++) {
		memset(&id, 0, sizeof(id));
		memcpy(id.initiator_port, res->aborts[i].port, sizeof(id.initiator_port));
		id.rtpi = res->aborts[i].rtpi;
		if (strstr(id.initiator_port, ",i,0x")) {
			scsi_pr_abort_fn(scsi_pr_abort_ctx, lu, &id);
			continue;
		}
		for (j = 0; j < lu->ua_count; j++)
			if (lu->ua[j].id.rtpi == id.rtpi &&
			    pr_port_covers(id.initiator_port, lu->ua[j].id.initiator_port))
				scsi_pr_abort_fn(scsi_pr_abort_ctx, lu, &lu->ua[j].id);
	}
}

/* Write (APTPL on) or remove (APTPL off) the LU's state file. */
static int scsi_pr_persist(const struct scsi_lu *lu, const struct pr_state *s)
{
	if (!scsi_pr_dir)
		return s->aptpl ? -EINVAL : 0;
	if (!s->aptpl)
		return pr_store_remove(scsi_pr_dir, lu->naa, lu->naa_len);
	return pr_store_write(scsi_pr_dir, lu->naa, lu->naa_len, scsi_pr_epoch, scsi_pr_generation,
			      s);
}

static void scsi_pr_log_change(const struct scsi_lu *lu, const struct pr_state *old,
			       const struct pr_state *now)
{
	if (old->type == now->type && strcmp(old->holder.port, now->holder.port) == 0)
		return;
	if (now->type == PR_TYPE_NONE)
		qb_log(LOG_NOTICE, "%s: persistent reservation released (PRgeneration %u)",
		       lu->path, now->generation);
	else
		qb_log(LOG_NOTICE, "%s: persistent reservation %s held by %s (PRgeneration %u)",
		       lu->path, pr_type_name(now->type),
		       now->holder.port[0] ? now->holder.port : "all registrants", now->generation);
}

/* Apply \p c to \p lu: on a copy, persisted before it becomes the state. */
static int scsi_pr_lu_apply(struct scsi_lu *lu, const struct pr_cmd *c, struct scsi_pr_result *out)
{
	struct pr_state *next = NULL;
	struct pr_result res = {0};
	struct sense_field field;
	enum sense_reason r;
	int ret;

	ret = pr_state_clone(lu->pr, &next);
	if (ret == 0)
		ret = pr_apply(next, c, &res);
	if (ret < 0) {
		qb_log(LOG_ERR, "%s: out of memory applying a PR command", lu->path);
		scsi_pr_result_set(out, SENSE_BUSY, NULL);
		goto out;
	}
	r = scsi_pr_reason(&res, &field);
	if (res.persist && scsi_pr_persist(lu, next) < 0) {
		/* SPC-4 5.12.5: never GOOD for a change that is not persisted. */
		qb_log(LOG_ERR, "%s: APTPL state not written: the PR command fails", lu->path);
		scsi_pr_result_set(out, SENSE_INTERNAL_FAILURE, NULL);
		/* This member now differs from the others: tell the committer. */
		ret = -EIO;
		goto out;
	}
	if (res.changed) {
		scsi_pr_log_change(lu, lu->pr, next);
		pr_state_destroy(lu->pr);
		lu->pr = next;
		next = NULL;
		scsi_pr_effects(lu, &res);
	}
	scsi_pr_result_set(out, r, &field);
out:
	pr_result_release(&res);
	pr_state_destroy(next);
	return ret;
}

int scsi_pr_deliver(const uint8_t *msg, size_t len, struct scsi_pr_result *res)
{
	struct scsi_pr_result local;
	struct scsi_lu *lu;
	struct pr_cmd c;
	int ret;

	if (!res)
		res = &local;
	scsi_pr_generation++;
	ret = pr_cmd_decode(msg, len, &c);
	if (ret < 0) {
		qb_log(LOG_ERR, "PR command message of %zu bytes cannot be decoded: %s", len,
		       strerror(-ret));
		scsi_pr_result_set(res, ret == -ENOMEM ? SENSE_BUSY : SENSE_INTERNAL_FAILURE, NULL);
		goto out;
	}
	lu = scsi_lu_find_naa(c.lu_id, c.lu_id_len);
	if (!lu || !lu->pr) {
		qb_log(LOG_ERR, "PR command for an LU this node does not have");
		scsi_pr_result_set(res, SENSE_LUN_NOT_SUPPORTED, NULL);
		ret = -ENOENT;
	} else {
		ret = scsi_pr_lu_apply(lu, &c, res);
	}
	pr_cmd_release(&c);
out:
	return ret;
}

static int scsi_pr_local_submit(void *ctx, const uint8_t *msg, size_t len, scsi_pr_done_fn done,
				void *arg)
{
	struct scsi_pr_result res;

	scsi_pr_deliver(msg, len, &res);
	done(arg, &res);
	return 0;
}

/* ---- LU lifecycle ------------------------------------------------------ */

int scsi_lu_pr_init(struct scsi_lu *lu)
{
	uint64_t epoch = 0, gen = 0;
	struct pr_state *s = NULL;
	int ret = 0;

	if (scsi_pr_dir)
		ret = pr_store_read(scsi_pr_dir, lu->naa, lu->naa_len, &epoch, &gen, &s);
	if (ret == -ENOENT)
		ret = 0;
	if (ret < 0) {
		qb_log(LOG_ERR, "%s: cannot restore persistent reservations: %s", lu->path,
		       strerror(-ret));
		goto out;
	}
	if (s) {
		/* SPC-2 reservations do not survive (SPC-2 5.5.1). */
		s->spc2_reserved = false;
		memset(&s->spc2_holder, 0, sizeof(s->spc2_holder));
		qb_log(LOG_NOTICE, "%s: %zu registrations, reservation %s restored (APTPL)",
		       lu->path, s->nregs, pr_type_name(s->type));
		/* Continue from the newest position found on disk. */
		if (epoch > scsi_pr_epoch || (epoch == scsi_pr_epoch && gen > scsi_pr_generation))
			scsi_pr_position_set(epoch, gen);
	} else {
		s = pr_state_create();
		if (!s)
			ret = -ENOMEM;
	}
	lu->pr = s;
out:
	return ret;
}

void scsi_lu_pr_fini(struct scsi_lu *lu)
{
	pr_state_destroy(lu->pr);
	lu->pr = NULL;
	pr_ua_pending_forget(scsi_pr_pending, lu->naa, lu->naa_len);
	if (scsi_pr_pending && !pr_ua_pending_count(scsi_pr_pending)) {
		pr_ua_pending_destroy(scsi_pr_pending);
		scsi_pr_pending = NULL;
	}
}

/* ---- snapshot (design.md section 3 rule 3) ----------------------------- */

/*
 * "HPSN", version, three zero bytes, epoch (8), generation (8), LU count
 * (4); per LU: NAA length (1), NAA (16, zero padded), state length (4), the
 * state (pr_state_encode).
 * Version 2 appends the unit attentions a joining member must keep for the
 * nexuses connected elsewhere: length (4), pr_ua_pending_encode() bytes.
 * Version 1 (no UAs) is still installed, for a rolling upgrade.
 */
#define SCSI_PR_SNAP_HDR 28
#define SCSI_PR_SNAP_VERSION 2
static const uint8_t scsi_pr_snap_magic[4] = {'H', 'P', 'S', 'N'};

int scsi_pr_snapshot(uint8_t **out, size_t *len)
{
	struct pr_ua_pending *uas = NULL;
	struct buf b = BUF_INIT;
	struct scsi_lu *lu;
	uint8_t h[SCSI_PR_SNAP_HDR] = {0}, l[21];
	uint8_t *st = NULL;
	size_t slen;
	uint32_t n = 0;
	int ret;

	memcpy(h, scsi_pr_snap_magic, 4);
	h[4] = SCSI_PR_SNAP_VERSION;
	put_be64(h + 8, scsi_pr_epoch);
	put_be64(h + 16, scsi_pr_generation);
	buf_append(&b, h, sizeof(h));
	ret = scsi_pr_ua_snapshot(&uas);
	for (lu = scsi_lu_next(NULL); lu && ret == 0; lu = scsi_lu_next(lu)) {
		if (!lu->pr)
			continue;
		ret = pr_state_encode(lu->pr, &st, &slen);
		if (ret < 0)
			break;
		memset(l, 0, sizeof(l));
		l[0] = lu->naa_len;
		memcpy(l + 1, lu->naa, lu->naa_len);
		put_be32(l + 17, (uint32_t)slen);
		buf_append(&b, l, sizeof(l));
		buf_append(&b, st, slen);
		free(st);
		st = NULL;
		n++;
	}
	if (ret == 0)
		ret = pr_ua_pending_encode(uas, &st, &slen);
	if (ret == 0) {
		put_be32(l, (uint32_t)slen);
		buf_append(&b, l, 4);
		buf_append(&b, st, slen);
	}
	if (ret == 0 && b.err)
		ret = b.err;
	if (ret < 0) {
		buf_release(&b);
		goto out;
	}
	put_be32(b.data + 24, n);
	*out = b.data;
	*len = b.len;
out:
	free(st);
	pr_ua_pending_destroy(uas);
	return ret;
}

int scsi_pr_snapshot_install(const uint8_t *buf, size_t len)
{
	struct pr_ua_pending *uas = NULL;
	struct pr_state **states = NULL;
	struct scsi_lu **lus = NULL;
	uint32_t n, i;
	size_t off = SCSI_PR_SNAP_HDR, slen, k;
	int ret = -EINVAL;

	if (len < SCSI_PR_SNAP_HDR || memcmp(buf, scsi_pr_snap_magic, 4) ||
	    (buf[4] != 1 && buf[4] != SCSI_PR_SNAP_VERSION) || buf[5] || buf[6] || buf[7])
		goto out;
	n = get_be32(buf + 24);
	if (n > (len - off) / 21)
		goto out;
	states = calloc(n ? n : 1, sizeof(*states));
	lus = calloc(n ? n : 1, sizeof(*lus));
	if (!states || !lus) {
		ret = -ENOMEM;
		goto out;
	}
	/* Decode everything first: a malformed snapshot installs nothing. */
	for (i = 0; i < n; i++) {
		if (len - off < 21 || buf[off] > 16)
			goto out;
		for (k = 1 + buf[off]; k < 17; k++)
			if (buf[off + k])
				goto out;
		slen = get_be32(buf + off + 17);
		if (slen > len - off - 21)
			goto out;
		ret = pr_state_decode(buf + off + 21, slen, &states[i]);
		if (ret < 0)
			goto out;
		ret = -EINVAL;
		lus[i] = scsi_lu_find_naa(buf + off + 1, buf[off]);
		off += 21 + slen;
	}
	if (buf[4] >= 2) {
		if (len - off < 4)
			goto out;
		slen = get_be32(buf + off);
		if (slen != len - off - 4)
			goto out;
		ret = pr_ua_pending_decode(buf + off + 4, slen, SCSI_PR_UA_PENDING_MAX, &uas);
		if (ret < 0)
			goto out;
		ret = -EINVAL;
		off += 4 + slen;
	}
	if (off != len)
		goto out;
	scsi_pr_position_set(get_be64(buf + 8), get_be64(buf + 16));
	for (i = 0; i < n; i++) {
		if (!lus[i] || !lus[i]->pr)
			continue; /* an LU this member does not serve */
		if ((states[i]->aptpl || lus[i]->pr->aptpl) &&
		    scsi_pr_persist(lus[i], states[i]) < 0)
			qb_log(LOG_ERR, "%s: APTPL state of the snapshot not written",
			       lus[i]->path);
		pr_state_destroy(lus[i]->pr);
		lus[i]->pr = states[i];
		states[i] = NULL;
	}
	/* The sender's UAs replace ours: a syncing member has no nexus of its
	 * own, and the sender's table holds every change we are about to
	 * continue from. An empty table is not kept. */
	pr_ua_pending_destroy(scsi_pr_pending);
	scsi_pr_pending = pr_ua_pending_count(uas) ? uas : NULL;
	if (scsi_pr_pending) {
		qb_log(LOG_NOTICE,
		       "%zu reservation unit attention(s) kept for nexuses connected "
		       "elsewhere (from the snapshot)",
		       pr_ua_pending_count(uas));
		uas = NULL;
	}
	ret = 0;
out:
	for (i = 0; states && i < n; i++)
		pr_state_destroy(states[i]);
	free(states);
	free(lus);
	pr_ua_pending_destroy(uas);
	return ret;
}

/* ---- hatgtadm pr ------------------------------------------------------- */

static void scsi_lu_pr_show_json(const struct pr_state *s, struct buf *out)
{
	size_t i;

	buf_printf(out, "{\"generation\":%u,\"aptpl\":%s,\"type\":\"%s\",\"type_code\":%u,",
		   s->generation, s->aptpl ? "true" : "false", pr_type_name(s->type), s->type);
	if (s->type != PR_TYPE_NONE && s->holder.port[0])
		buf_printf(out, "\"holder\":{\"port\":\"%s\",\"rtpi\":%u},", s->holder.port,
			   s->holder.rtpi);
	else
		buf_printf(out, "\"holder\":%s,",
			   s->type != PR_TYPE_NONE ? "\"all-registrants\"" : "null");
	if (s->spc2_reserved)
		buf_printf(out, "\"spc2_holder\":{\"port\":\"%s\",\"rtpi\":%u},",
			   s->spc2_holder.port, s->spc2_holder.rtpi);
	else
		buf_printf(out, "\"spc2_holder\":null,");
	buf_printf(out, "\"registrations\":[");
	for (i = 0; i < s->nregs; i++)
		buf_printf(out,
			   "%s{\"key\":\"0x%016llx\",\"port\":\"%s\",\"rtpi\":%u,"
			   "\"all_tg_pt\":%s,\"holder\":%s}",
			   i ? "," : "", (unsigned long long)s->regs[i].key, s->regs[i].nexus.port,
			   s->regs[i].nexus.rtpi, s->regs[i].all_tg_pt ? "true" : "false",
			   pr_is_holder(s, &s->regs[i].nexus) ? "true" : "false");
	buf_printf(out, "]}\n");
}

void scsi_lu_pr_show(struct scsi_lu *lu, bool json, struct buf *out)
{
	const struct pr_state *s = lu->pr;
	size_t i;

	if (!s)
		return;
	if (json) {
		scsi_lu_pr_show_json(s, out);
		return;
	}
	buf_printf(out, "generation: %u\naptpl: %s\n", s->generation, s->aptpl ? "on" : "off");
	if (s->type == PR_TYPE_NONE)
		buf_printf(out, "reservation: none\n");
	else
		buf_printf(out, "reservation: %s (type %u) scope LU holder %s rtpi %u\n",
			   pr_type_name(s->type), s->type,
			   s->holder.port[0] ? s->holder.port : "all-registrants", s->holder.rtpi);
	if (s->spc2_reserved)
		buf_printf(out, "spc2 reservation: %s rtpi %u\n", s->spc2_holder.port,
			   s->spc2_holder.rtpi);
	else
		buf_printf(out, "spc2 reservation: none\n");
	buf_printf(out, "registrations: %zu\n", s->nregs);
	for (i = 0; i < s->nregs; i++)
		buf_printf(out, "  key 0x%016llx %s rtpi %u%s%s\n",
			   (unsigned long long)s->regs[i].key, s->regs[i].nexus.port,
			   s->regs[i].nexus.rtpi, s->regs[i].all_tg_pt ? " all_tg_pt" : "",
			   pr_is_holder(s, &s->regs[i].nexus) ? " holder" : "");
}
