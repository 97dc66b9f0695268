/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * I_T nexuses and their unit attentions (SAM-5 5.14, SPC-4 5.14 [UA rules]).
 *
 * Unit attention state lives in the LU, one slot per I_T nexus that has
 * sent it a command, keyed by the nexus identity *value* (initiator port
 * name + relative target port id) so that reservation code can queue unit
 * attentions for a nexus by value. Each scsi_itn_create() gets a fresh
 * instance number; a slot whose instance differs from the nexus using it
 * belongs to an earlier nexus with the same identity, and the new nexus
 * starts with POWER ON, RESET, OR BUS DEVICE RESET OCCURRED. I_T nexus loss
 * (scsi_itn_destroy) drops the nexus' slots, so memory follows the live
 * nexuses. Reservation UAs for a nexus without a slot are kept by spc_pr.c
 * and queued here when the nexus takes its slot.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <qb/qblog.h>

#include "scsi/pr.h"
#include "scsi/scsi_int.h"

static uint64_t scsi_itn_instances;

struct scsi_itn *scsi_itn_create(const struct scsi_itn_id *id)
{
	struct scsi_itn *itn = NULL;

	if (!id || !memchr(id->initiator_port, '\0', sizeof(id->initiator_port)))
		goto out;
	itn = calloc(1, sizeof(*itn));
	if (!itn)
		goto out;
	itn->id = *id;
	itn->instance = ++scsi_itn_instances;
out:
	return itn;
}

void scsi_itn_destroy(struct scsi_itn *itn)
{
	if (itn)
		scsi_lu_all_itn_gone(itn);
	free(itn);
}

const struct scsi_itn_id *scsi_itn_id(const struct scsi_itn *itn)
{
	return &itn->id;
}

static bool scsi_itn_id_equal(const struct scsi_itn_id *a, const struct scsi_itn_id *b)
{
	return a->rtpi == b->rtpi && strcmp(a->initiator_port, b->initiator_port) == 0;
}

static void scsi_ua_slot_reset(struct scsi_lu *lu, struct scsi_ua_slot *slot, uint64_t instance)
{
	slot->instance = instance;
	slot->count = 0;
	/* SBC-3 5.13: a new nexus does not inherit an old one's prevention. */
	slot->prevent = false;
	scsi_ua_slot_queue(slot, SENSE_UA_POWER_ON);
	/* Reservation UAs raised while this nexus was not connected here (on
	 * a standby: while it was logged in to the promoted node) follow the
	 * POWER ON, so that it does not supersede them. */
	scsi_pr_ua_pending_deliver(lu, slot);
}

struct scsi_ua_slot *scsi_ua_slot_get(struct scsi_lu *lu, const struct scsi_itn *itn)
{
	struct scsi_ua_slot *slot = NULL, *grown;
	size_t i, cap;

	for (i = 0; i < lu->ua_count; i++) {
		if (lu->ua[i].instance == itn->instance) {
			slot = &lu->ua[i];
			goto out;
		}
		if (!slot && scsi_itn_id_equal(&lu->ua[i].id, &itn->id))
			slot = &lu->ua[i];
	}
	if (slot) {
		/* The same identity on a new nexus (e.g. session reinstatement). */
		scsi_ua_slot_reset(lu, slot, itn->instance);
		goto out;
	}
	if (lu->ua_count == lu->ua_cap) {
		cap = lu->ua_cap ? lu->ua_cap * 2 : 4;
		grown = reallocarray(lu->ua, cap, sizeof(*grown));
		if (!grown)
			goto out;
		lu->ua = grown;
		lu->ua_cap = cap;
	}
	slot = &lu->ua[lu->ua_count++];
	memset(slot, 0, sizeof(*slot));
	slot->id = itn->id;
	scsi_ua_slot_reset(lu, slot, itn->instance);
out:
	return slot;
}

void scsi_ua_slot_queue(struct scsi_ua_slot *slot, enum sense_reason reason)
{
	unsigned int i;

	/* SAM-5 5.14: a power on / reset condition supersedes what was queued. */
	if (sense_is_reset_ua(reason))
		slot->count = 0;
	for (i = 0; i < slot->count && slot->queue[i] != reason; i++)
		;
	if (i < slot->count) {
		/* Already pending: reported once. */
	} else if (slot->count == SCSI_UA_QUEUE_MAX) {
		qb_log(LOG_WARNING, "unit attention queue of %s full, dropping one",
		       slot->id.initiator_port);
	} else {
		slot->queue[slot->count++] = (uint8_t)reason;
	}
}

enum sense_reason scsi_ua_slot_pop(struct scsi_ua_slot *slot)
{
	enum sense_reason r = SENSE_OK;

	if (slot->count) {
		r = (enum sense_reason)slot->queue[0];
		slot->count--;
		memmove(slot->queue, slot->queue + 1, slot->count);
	}
	return r;
}

void scsi_ua_establish(struct scsi_lu *lu, const struct scsi_itn_id *id, enum sense_reason reason)
{
	size_t i;

	/* A nexus without a slot has not seen the LU yet: it gets POWER ON first anyway. */
	for (i = 0; i < lu->ua_count; i++)
		if (!id || scsi_itn_id_equal(&lu->ua[i].id, id))
			scsi_ua_slot_queue(&lu->ua[i], reason);
}

void scsi_ua_establish_others(struct scsi_lu *lu, const struct scsi_itn *itn,
			      enum sense_reason reason)
{
	size_t i;

	for (i = 0; i < lu->ua_count; i++)
		if (lu->ua[i].instance != itn->instance)
			scsi_ua_slot_queue(&lu->ua[i], reason);
}

void scsi_ua_slot_drop(struct scsi_lu *lu, uint64_t instance)
{
	size_t i;

	for (i = 0; i < lu->ua_count; i++) {
		if (lu->ua[i].instance == instance) {
			/* Order of slots does not matter: move the last one here. */
			lu->ua[i] = lu->ua[--lu->ua_count];
			break;
		}
	}
}

bool scsi_lu_removal_prevented(const struct scsi_lu *lu)
{
	size_t i;

	for (i = 0; i < lu->ua_count; i++)
		if (lu->ua[i].prevent)
			return true;
	return false;
}

void scsi_lu_prevent_clear(struct scsi_lu *lu)
{
	size_t i;

	for (i = 0; i < lu->ua_count; i++)
		lu->ua[i].prevent = false;
}

void scsi_ua_release(struct scsi_lu *lu)
{
	free(lu->ua);
	lu->ua = NULL;
	lu->ua_count = 0;
	lu->ua_cap = 0;
}
