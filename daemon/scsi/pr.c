/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * SPC-4 persistent reservations: the pure state machine (see pr.h).
 * libc only: no logging, no globals, no clocks.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "scsi/pr.h"
#include "util/be.h"

/* SPC-4 7.6.1 Table 360: PROTOCOL IDENTIFIER of iSCSI. */
#define PR_PROTO_ISCSI 0x5
/* SPC-4 7.6.4.6: ",i,0x" then 12 hex digits of the ISID. */
#define PR_ISID_SEP ",i,0x"
#define PR_ISID_HEX 12

/* ---- nexus identity ---------------------------------------------------- */

/* Length of the iSCSI name part of an initiator port name. */
static size_t pr_port_name_len(const char *port)
{
	const char *sep = strstr(port, PR_ISID_SEP);

	return sep ? (size_t)(sep - port) : strlen(port);
}

bool pr_port_covers(const char *reg, const char *port)
{
	size_t n;

	if (strcmp(reg, port) == 0)
		return true;
	/* A format 00b registration names the iSCSI node: all its ports. */
	if (strstr(reg, PR_ISID_SEP))
		return false;
	n = strlen(reg);
	return pr_port_name_len(port) == n && strncmp(reg, port, n) == 0;
}

static bool pr_reg_covers(const struct pr_reg *r, const struct pr_nexus *n)
{
	/* One target port per target: ALL_TG_PT covers it like its own rtpi. */
	return (r->all_tg_pt || r->nexus.rtpi == n->rtpi) && pr_port_covers(r->nexus.port, n->port);
}

static bool pr_nexus_equal(const struct pr_nexus *a, const struct pr_nexus *b)
{
	return a->rtpi == b->rtpi && strcmp(a->port, b->port) == 0;
}

/* The registration of a nexus: an exact one first, else a node-wide one. */
static struct pr_reg *pr_reg_find(const struct pr_state *s, const struct pr_nexus *n)
{
	struct pr_reg *wide = NULL;
	size_t i;

	for (i = 0; i < s->nregs; i++) {
		if (pr_nexus_equal(&s->regs[i].nexus, n))
			return &s->regs[i];
		if (!wide && pr_reg_covers(&s->regs[i], n))
			wide = &s->regs[i];
	}
	return wide;
}

static bool pr_type_all_regs(uint8_t type)
{
	return type == PR_TYPE_WEAR || type == PR_TYPE_EAAR;
}

static bool pr_type_regs_only(uint8_t type)
{
	return type == PR_TYPE_WERO || type == PR_TYPE_EARO;
}

static bool pr_type_valid(uint8_t type)
{
	return type == PR_TYPE_WE || type == PR_TYPE_EA || pr_type_regs_only(type) ||
	       pr_type_all_regs(type);
}

bool pr_is_registered(const struct pr_state *s, const struct pr_nexus *nexus)
{
	return pr_reg_find(s, nexus) != NULL;
}

/* SPC-4 5.12.10: with an all registrants type every registrant is a holder. */
bool pr_is_holder(const struct pr_state *s, const struct pr_nexus *nexus)
{
	if (s->type == PR_TYPE_NONE || !pr_is_registered(s, nexus))
		return false;
	return pr_type_all_regs(s->type) || pr_nexus_equal(&s->holder, nexus);
}

/* Is registration r the one the (non all registrants) holder holds through? */
static bool pr_reg_is_holder(const struct pr_state *s, const struct pr_reg *r)
{
	if (s->type == PR_TYPE_NONE)
		return false;
	if (pr_type_all_regs(s->type))
		return true;
	return pr_reg_find(s, &s->holder) == r;
}

const char *pr_type_name(uint8_t type)
{
	switch (type) {
	case PR_TYPE_NONE:
		return "none";
	case PR_TYPE_WE:
		return "WE";
	case PR_TYPE_EA:
		return "EA";
	case PR_TYPE_WERO:
		return "WERO";
	case PR_TYPE_EARO:
		return "EARO";
	case PR_TYPE_WEAR:
		return "WEAR";
	case PR_TYPE_EAAR:
		return "EAAR";
	default:
		return "invalid";
	}
}

/* ---- state lifecycle --------------------------------------------------- */

struct pr_state *pr_state_create(void)
{
	return calloc(1, sizeof(struct pr_state));
}

void pr_state_destroy(struct pr_state *s)
{
	if (s)
		free(s->regs);
	free(s);
}

int pr_state_clone(const struct pr_state *s, struct pr_state **out)
{
	struct pr_state *c = pr_state_create();
	int ret = -ENOMEM;

	if (!c)
		goto out;
	*c = *s;
	c->regs = NULL;
	if (s->nregs) {
		c->regs = calloc(s->nregs, sizeof(*c->regs));
		if (!c->regs)
			goto out;
		memcpy(c->regs, s->regs, s->nregs * sizeof(*c->regs));
	}
	*out = c;
	c = NULL;
	ret = 0;
out:
	pr_state_destroy(c);
	return ret;
}

bool pr_state_equal(const struct pr_state *a, const struct pr_state *b)
{
	size_t i;

	if (a->generation != b->generation || a->aptpl != b->aptpl || a->type != b->type ||
	    a->scope != b->scope || a->spc2_reserved != b->spc2_reserved || a->nregs != b->nregs)
		return false;
	if (a->type != PR_TYPE_NONE && !pr_type_all_regs(a->type) &&
	    !pr_nexus_equal(&a->holder, &b->holder))
		return false;
	if (a->spc2_reserved && !pr_nexus_equal(&a->spc2_holder, &b->spc2_holder))
		return false;
	for (i = 0; i < a->nregs; i++)
		if (a->regs[i].key != b->regs[i].key ||
		    a->regs[i].all_tg_pt != b->regs[i].all_tg_pt ||
		    !pr_nexus_equal(&a->regs[i].nexus, &b->regs[i].nexus))
			return false;
	return true;
}

/* ---- result building ---------------------------------------------------- */

void pr_result_release(struct pr_result *res)
{
	free(res->uas);
	free(res->aborts);
	res->uas = NULL;
	res->aborts = NULL;
	res->nuas = 0;
	res->naborts = 0;
}

static void pr_result_fail(struct pr_result *res, enum pr_status st, bool in_cdb, int byte, int bit)
{
	res->status = (uint8_t)st;
	res->field_valid = byte >= 0;
	res->field_in_cdb = in_cdb;
	res->field_byte = byte >= 0 ? (uint16_t)byte : 0;
	res->field_bit = (int8_t)bit;
}

/* Room for PR_REGS_MAX + 1 entries each is allocated up front by pr_apply. */
static void pr_result_ua(struct pr_result *res, const struct pr_nexus *n, enum pr_ua ua)
{
	size_t i;

	for (i = 0; i < res->nuas; i++)
		if (pr_nexus_equal(&res->uas[i].nexus, n) && res->uas[i].ascq == ua)
			return;
	res->uas[res->nuas].nexus = *n;
	res->uas[res->nuas].ascq = (uint8_t)ua;
	res->nuas++;
}

static void pr_result_abort(struct pr_result *res, const struct pr_nexus *n)
{
	res->aborts[res->naborts++] = *n;
}

/* ---- state changes ----------------------------------------------------- */

static void pr_reg_remove(struct pr_state *s, size_t i)
{
	memmove(&s->regs[i], &s->regs[i + 1], (s->nregs - i - 1) * sizeof(s->regs[0]));
	s->nregs--;
}

static void pr_reservation_drop(struct pr_state *s)
{
	s->type = PR_TYPE_NONE;
	s->scope = 0;
	memset(&s->holder, 0, sizeof(s->holder));
}

/* Registration arrays are kept at PR_REGS_MAX capacity (allocated once). */
static int pr_regs_ensure(struct pr_state *s)
{
	struct pr_reg *r;

	if (s->regs)
		return 0;
	r = calloc(PR_REGS_MAX, sizeof(*r));
	if (!r)
		return -ENOMEM;
	s->regs = r;
	return 0;
}

static enum pr_status pr_reg_add(struct pr_state *s, const struct pr_nexus *n, uint64_t key,
				 bool all_tg_pt)
{
	if (s->nregs == PR_REGS_MAX)
		return PR_NO_RESOURCES;
	s->regs[s->nregs].nexus = *n;
	s->regs[s->nregs].key = key;
	s->regs[s->nregs].all_tg_pt = all_tg_pt;
	s->nregs++;
	return PR_OK;
}

/*
 * SPC-4 5.12.11.3: unregistering the registration at i. A holder of a non
 * all-registrants reservation loses it; registrants only: every other
 * registrant gets RESERVATIONS RELEASED. An all registrants reservation
 * ends with its last registrant.
 */
static void pr_unregister(struct pr_state *s, size_t i, struct pr_result *res)
{
	bool holder = pr_reg_is_holder(s, &s->regs[i]);
	uint8_t type = s->type;
	size_t j;

	pr_reg_remove(s, i);
	if (!holder)
		return;
	if (pr_type_all_regs(type)) {
		if (s->nregs == 0)
			pr_reservation_drop(s);
		return;
	}
	pr_reservation_drop(s);
	if (pr_type_regs_only(type))
		for (j = 0; j < s->nregs; j++)
			pr_result_ua(res, &s->regs[j].nexus, PR_UA_RESERVATIONS_RELEASED);
}

/* SPC-4 5.12.7: REGISTER and REGISTER AND IGNORE EXISTING KEY. */
static enum pr_status pr_do_register(struct pr_state *s, const struct pr_cmd *c,
				     struct pr_result *res)
{
	struct pr_reg *r = pr_reg_find(s, &c->nexus);
	bool ignore = c->sa == PR_SA_REGISTER_IGNORE;
	enum pr_status st = PR_OK;
	size_t i;

	if (!r) {
		if (!ignore && c->key != 0)
			return PR_CONFLICT;
		if (c->sa_key == 0)
			return PR_OK; /* nothing registered, nothing to do: no new PRgeneration */
		for (i = 0; i < c->ntids; i++) {
			/* SPEC_I_PT naming a registered nexus (not the sender). */
			if (!pr_port_covers(c->tids[i].port, c->nexus.port) &&
			    pr_reg_find(s, &c->tids[i])) {
				pr_result_fail(res, PR_BAD_PARAM, false, -1, 0);
				return PR_BAD_PARAM;
			}
		}
		st = pr_reg_add(s, &c->nexus, c->sa_key, c->all_tg_pt);
		for (i = 0; i < c->ntids && st == PR_OK; i++)
			if (!pr_reg_find(s, &c->tids[i]))
				st = pr_reg_add(s, &c->tids[i], c->sa_key, c->all_tg_pt);
		if (st != PR_OK)
			return st;
	} else {
		if (!ignore && c->key != r->key)
			return PR_CONFLICT;
		if (c->spec_i_pt) {
			/* SPC-4 5.12.7: a registered nexus may not use SPEC_I_PT. */
			pr_result_fail(res, PR_BAD_CDB, true, -1, 0);
			return PR_BAD_CDB;
		}
		if (c->sa_key == 0) {
			pr_unregister(s, (size_t)(r - s->regs), res);
		} else {
			r->key = c->sa_key;
			r->all_tg_pt = c->all_tg_pt;
		}
	}
	/* SPC-4 5.12.5: the last valid APTPL value received governs. */
	s->aptpl = c->aptpl;
	s->generation++;
	res->changed = true;
	return PR_OK;
}

/* The sender must be registered with the key it gives. */
static enum pr_status pr_key_check(const struct pr_state *s, const struct pr_cmd *c)
{
	const struct pr_reg *r = pr_reg_find(s, &c->nexus);

	return r && r->key == c->key ? PR_OK : PR_CONFLICT;
}

/* SPC-4 5.12.9: RESERVE. */
static enum pr_status pr_do_reserve(struct pr_state *s, const struct pr_cmd *c)
{
	enum pr_status st = pr_key_check(s, c);

	if (st != PR_OK)
		return st;
	if (s->type != PR_TYPE_NONE) {
		/* The holder asking again for the same reservation: nothing changes. */
		if (pr_is_holder(s, &c->nexus) && s->type == c->type && s->scope == c->scope)
			return PR_OK;
		return PR_CONFLICT;
	}
	s->type = c->type;
	s->scope = c->scope;
	s->holder = c->nexus;
	return PR_OK;
}

/* SPC-4 5.12.11.2: RELEASE. */
static enum pr_status pr_do_release(struct pr_state *s, const struct pr_cmd *c,
				    struct pr_result *res)
{
	enum pr_status st = pr_key_check(s, c);
	uint8_t type = s->type;
	size_t i;

	if (st != PR_OK)
		return st;
	/* No reservation, or not its holder: GOOD, nothing happens. */
	if (type == PR_TYPE_NONE || !pr_is_holder(s, &c->nexus))
		return PR_OK;
	if (c->type != type || c->scope != s->scope)
		return PR_INVALID_RELEASE;
	pr_reservation_drop(s);
	/* Registrants only / all registrants: the other registrants are told. */
	if (pr_type_regs_only(type) || pr_type_all_regs(type))
		for (i = 0; i < s->nregs; i++)
			if (!pr_reg_covers(&s->regs[i], &c->nexus))
				pr_result_ua(res, &s->regs[i].nexus, PR_UA_RESERVATIONS_RELEASED);
	return PR_OK;
}

/* SPC-4 5.12.11.5: CLEAR. */
static enum pr_status pr_do_clear(struct pr_state *s, const struct pr_cmd *c, struct pr_result *res)
{
	enum pr_status st = pr_key_check(s, c);
	size_t i;

	if (st != PR_OK)
		return st;
	for (i = 0; i < s->nregs; i++)
		if (!pr_reg_covers(&s->regs[i], &c->nexus))
			pr_result_ua(res, &s->regs[i].nexus, PR_UA_RESERVATIONS_PREEMPTED);
	s->nregs = 0;
	pr_reservation_drop(s);
	s->generation++;
	return PR_OK;
}

/* Remove every registration with key (all when key is 0), except the
 * sender's; the removed ones get REGISTRATIONS PREEMPTED (and are aborted). */
static void pr_preempt_regs(struct pr_state *s, const struct pr_cmd *c, bool all,
			    struct pr_result *res)
{
	size_t i = 0;

	while (i < s->nregs) {
		struct pr_reg *r = &s->regs[i];

		if ((all || r->key == c->sa_key) && !pr_reg_covers(r, &c->nexus)) {
			pr_result_ua(res, &r->nexus, PR_UA_REGISTRATIONS_PREEMPTED);
			if (c->sa == PR_SA_PREEMPT_ABORT)
				pr_result_abort(res, &r->nexus);
			pr_reg_remove(s, i);
		} else {
			i++;
		}
	}
}

static bool pr_key_registered(const struct pr_state *s, uint64_t key)
{
	size_t i;

	for (i = 0; i < s->nregs; i++)
		if (s->regs[i].key == key)
			return true;
	return false;
}

/* Take the reservation over with the CDB's type and scope (5.12.11.2.4). */
static void pr_preempt_reservation(struct pr_state *s, const struct pr_cmd *c, bool all,
				   struct pr_result *res)
{
	bool changed = s->type != c->type || s->scope != c->scope;
	size_t i, j;

	pr_preempt_regs(s, c, all, res);
	s->type = c->type;
	s->scope = c->scope;
	s->holder = c->nexus;
	if (!changed)
		return;
	/* Type or scope changed: remaining registrants, except the sender. */
	for (i = 0; i < s->nregs; i++) {
		if (pr_reg_covers(&s->regs[i], &c->nexus))
			continue;
		for (j = 0; j < res->nuas; j++)
			if (pr_nexus_equal(&res->uas[j].nexus, &s->regs[i].nexus))
				break;
		if (j == res->nuas)
			pr_result_ua(res, &s->regs[i].nexus, PR_UA_RESERVATIONS_RELEASED);
	}
}

/* SPC-4 5.12.11.2.4 - 5.12.11.2.6: PREEMPT and PREEMPT AND ABORT. */
static enum pr_status pr_do_preempt(struct pr_state *s, const struct pr_cmd *c,
				    struct pr_result *res)
{
	enum pr_status st = pr_key_check(s, c);
	const struct pr_reg *h;

	if (st != PR_OK)
		return st;
	if (s->type != PR_TYPE_NONE && pr_type_all_regs(s->type) && c->sa_key == 0) {
		/* 5.12.11.2.4.3: all registrants, key 0: every other registration goes. */
		pr_preempt_reservation(s, c, true, res);
		goto done;
	}
	if (c->sa_key == 0) {
		pr_result_fail(res, PR_BAD_PARAM, false, 8, -1);
		return PR_BAD_PARAM;
	}
	if (!pr_key_registered(s, c->sa_key))
		return PR_CONFLICT;
	h = s->type != PR_TYPE_NONE && !pr_type_all_regs(s->type) ? pr_reg_find(s, &s->holder)
								  : NULL;
	if (h && h->key == c->sa_key)
		pr_preempt_reservation(s, c, false, res);
	else
		pr_preempt_regs(s, c, false, res);
done:
	s->generation++;
	return PR_OK;
}

/* SPC-4 5.12.8: REGISTER AND MOVE. */
static enum pr_status pr_do_move(struct pr_state *s, const struct pr_cmd *c, struct pr_result *res)
{
	enum pr_status st = pr_key_check(s, c);
	const struct pr_nexus *to = &c->tids[0];
	struct pr_reg *r, *from;

	if (st != PR_OK)
		return st;
	if (s->type == PR_TYPE_NONE || pr_type_all_regs(s->type) || !pr_is_holder(s, &c->nexus))
		return PR_CONFLICT;
	if (c->sa_key == 0) {
		pr_result_fail(res, PR_BAD_PARAM, false, 8, -1);
		return PR_BAD_PARAM;
	}
	/* The sender's registration goes with UNREG, unless it also covers the target. */
	from = pr_reg_find(s, &c->nexus);
	if (from && (!c->unreg || pr_reg_covers(from, to)))
		from = NULL;
	r = pr_reg_find(s, to);
	if (r) {
		r->key = c->sa_key;
	} else {
		st = pr_reg_add(s, to, c->sa_key, false);
		if (st != PR_OK)
			return st;
	}
	s->holder = *to;
	if (from)
		pr_reg_remove(s, (size_t)(from - s->regs));
	s->aptpl = c->aptpl;
	s->generation++;
	return PR_OK;
}

/* SPC-4 5.12.3: SPC-2 RESERVE/RELEASE next to persistent reservations. */
static enum pr_status pr_do_spc2(struct pr_state *s, const struct pr_cmd *c)
{
	bool pr_holder = pr_is_holder(s, &c->nexus) ||
			 (pr_type_regs_only(s->type) && pr_is_registered(s, &c->nexus));

	/* A persistent reservation holder (or registrant of a RO/AR type): GOOD, no change. */
	if (s->type != PR_TYPE_NONE && pr_holder)
		return PR_OK;
	/* Otherwise SPC-2 5.5.1: registrations make RESERVE and RELEASE conflict. */
	if (s->nregs)
		return PR_CONFLICT;
	if (c->kind == PR_CMD_RELEASE) {
		/* SPC-2 7.17: releasing someone else's (or no) reservation does nothing. */
		if (s->spc2_reserved && pr_nexus_equal(&s->spc2_holder, &c->nexus))
			s->spc2_reserved = false;
		return PR_OK;
	}
	if (s->spc2_reserved && !pr_nexus_equal(&s->spc2_holder, &c->nexus))
		return PR_CONFLICT;
	s->spc2_reserved = true;
	s->spc2_holder = c->nexus;
	return PR_OK;
}

static enum pr_status pr_apply_out(struct pr_state *s, const struct pr_cmd *c,
				   struct pr_result *res)
{
	/* SPC-2 5.5.1: another nexus' SPC-2 reservation blocks PR OUT. */
	if (s->spc2_reserved && !pr_nexus_equal(&s->spc2_holder, &c->nexus))
		return PR_CONFLICT;
	switch (c->sa) {
	case PR_SA_REGISTER:
	case PR_SA_REGISTER_IGNORE:
		return pr_do_register(s, c, res);
	case PR_SA_RESERVE:
		return pr_do_reserve(s, c);
	case PR_SA_RELEASE:
		return pr_do_release(s, c, res);
	case PR_SA_CLEAR:
		return pr_do_clear(s, c, res);
	case PR_SA_PREEMPT:
	case PR_SA_PREEMPT_ABORT:
		return pr_do_preempt(s, c, res);
	case PR_SA_REGISTER_MOVE:
		return pr_do_move(s, c, res);
	default:
		pr_result_fail(res, PR_BAD_CDB, true, 1, 4);
		return PR_BAD_CDB;
	}
}

int pr_apply(struct pr_state *s, const struct pr_cmd *cmd, struct pr_result *res)
{
	struct pr_state *n = NULL;
	enum pr_status st = PR_OK;
	int ret = -ENOMEM;

	memset(res, 0, sizeof(*res));
	res->uas = calloc(PR_REGS_MAX + 1, sizeof(*res->uas));
	res->aborts = calloc(PR_REGS_MAX + 1, sizeof(*res->aborts));
	if (!res->uas || !res->aborts)
		goto out;
	/* Work on a copy with room for PR_REGS_MAX registrations: a failing
	 * command leaves the state exactly as it was. */
	n = pr_state_create();
	if (!n || pr_regs_ensure(n) < 0)
		goto out;
	{
		struct pr_reg *regs = n->regs;

		*n = *s;
		n->regs = regs;
		if (s->nregs)
			memcpy(n->regs, s->regs, s->nregs * sizeof(*regs));
	}
	switch (cmd->kind) {
	case PR_CMD_OUT:
		st = pr_apply_out(n, cmd, res);
		break;
	case PR_CMD_RESERVE:
	case PR_CMD_RELEASE:
		st = pr_do_spc2(n, cmd);
		break;
	case PR_CMD_NEXUS_LOSS:
		/* SPC-2 5.5.1: I_T nexus loss releases the nexus' SPC-2 reservation. */
		if (n->spc2_reserved && pr_nexus_equal(&n->spc2_holder, &cmd->nexus))
			n->spc2_reserved = false;
		break;
	case PR_CMD_LU_RESET:
		/* SAM-5 6.3.3: LOGICAL UNIT RESET releases SPC-2 reservations only. */
		n->spc2_reserved = false;
		break;
	default:
		pr_result_fail(res, PR_BAD_CDB, true, 0, -1);
		st = PR_BAD_CDB;
		break;
	}
	res->status = (uint8_t)st;
	if (st == PR_OK && !pr_state_equal(s, n)) {
		struct pr_state old = *s;

		res->changed = true;
		res->persist = s->aptpl || n->aptpl;
		*s = *n;
		*n = old;
	} else {
		/* Nothing changed: no side effects. */
		res->nuas = 0;
		res->naborts = 0;
	}
	if (st != PR_OK && st != PR_BAD_CDB && st != PR_BAD_PARAM)
		res->field_valid = false;
	ret = 0;
out:
	pr_state_destroy(n);
	if (ret < 0)
		pr_result_release(res);
	return ret;
}

/* ---- conflict check ---------------------------------------------------- */

bool pr_check(const struct pr_state *s, const struct pr_nexus *nexus, enum pr_class cls)
{
	bool registered;

	if (cls == PR_CLASS_ALLOWED)
		return false;
	/* SPC-2 5.5.1: everything else conflicts for other nexuses. */
	if (s->spc2_reserved && !pr_nexus_equal(&s->spc2_holder, nexus))
		return true;
	if (cls == PR_CLASS_PR || s->type == PR_TYPE_NONE || pr_is_holder(s, nexus))
		return false;
	registered = pr_is_registered(s, nexus);
	/* SPC-4 5.12.1 Table 63 (SBC-3 4.17 Table 13) columns. */
	switch (s->type) {
	case PR_TYPE_WE:
		return cls == PR_CLASS_WRITE;
	case PR_TYPE_EA:
		return true;
	case PR_TYPE_WERO:
	case PR_TYPE_WEAR:
		return !registered && cls == PR_CLASS_WRITE;
	case PR_TYPE_EARO:
	case PR_TYPE_EAAR:
		return !registered;
	default:
		return true;
	}
}

/* ---- TransportIDs (SPC-4 7.6.4.6) -------------------------------------- */

static bool pr_name_char_ok(uint8_t ch)
{
	return ch > 0x20 && ch < 0x7f && ch != ',';
}

int pr_tid_parse(const uint8_t *p, size_t avail, char *port)
{
	size_t addl, len, n, i;
	uint8_t fmt;
	const char *sep;

	if (avail < 4)
		return -EINVAL;
	fmt = p[0] >> 6;
	if ((p[0] & 0x0f) != PR_PROTO_ISCSI || (fmt != 0 && fmt != 1) || (p[0] & 0x30))
		return -EINVAL;
	addl = get_be16(p + 2);
	len = 4 + addl;
	/* ADDITIONAL LENGTH: at least 20, a multiple of 4. */
	if (addl < 20 || addl % 4 || len > avail)
		return -EINVAL;
	n = strnlen((const char *)p + 4, addl);
	/* NUL terminated, NUL padded. */
	if (n == addl || n == 0 || n >= PR_PORT_MAX)
		return -EINVAL;
	for (i = 4 + n; i < len; i++)
		if (p[i])
			return -EINVAL;
	memcpy(port, p + 4, n);
	port[n] = '\0';
	sep = strstr(port, PR_ISID_SEP);
	if (fmt == 0) {
		if (sep || n > PR_ISCSI_NAME_MAX)
			return -EINVAL;
		n = strlen(port);
	} else {
		/* name ",i,0x" and exactly 12 hex digits of ISID. */
		if (!sep || strlen(sep) != strlen(PR_ISID_SEP) + PR_ISID_HEX ||
		    (size_t)(sep - port) > PR_ISCSI_NAME_MAX)
			return -EINVAL;
		for (i = 0; i < PR_ISID_HEX; i++) {
			char *h = (char *)sep + strlen(PR_ISID_SEP) + i;

			if (*h >= 'A' && *h <= 'F')
				*h = (char)(*h - 'A' + 'a');
			if (!((*h >= '0' && *h <= '9') || (*h >= 'a' && *h <= 'f')))
				return -EINVAL;
		}
		n = (size_t)(sep - port);
	}
	if (n == 0)
		return -EINVAL;
	for (i = 0; i < n; i++)
		if (!pr_name_char_ok((uint8_t)port[i]))
			return -EINVAL;
	return (int)len;
}

int pr_tid_build(const char *port, uint8_t *out, size_t cap)
{
	size_t n = strlen(port), len;

	/* NUL terminated, padded to a multiple of 4, at least 24 bytes in all. */
	len = 4 + ((n + 1 + 3) & ~(size_t)3);
	if (len < 24)
		len = 24;
	if (len > cap || len - 4 > 0xffff)
		return -EINVAL;
	memset(out, 0, len);
	out[0] = (uint8_t)((strstr(port, PR_ISID_SEP) ? 0x40 : 0x00) | PR_PROTO_ISCSI);
	put_be16(out + 2, (uint16_t)(len - 4));
	memcpy(out + 4, port, n);
	return (int)len;
}

/* ---- PERSISTENT RESERVE OUT parsing (SPC-4 6.16) ---------------------- */

static int pr_out_fail(struct pr_result *res, enum pr_status st, bool in_cdb, int byte, int bit)
{
	pr_result_fail(res, st, in_cdb, byte, bit);
	return -EINVAL;
}

/* TransportIDs of a SPEC_I_PT list: exactly \p len bytes at \p p. */
static int pr_out_tids(const uint8_t *p, size_t len, size_t base, const struct pr_nexus *nexus,
		       struct pr_cmd *cmd, struct pr_result *res)
{
	size_t off = 0;
	int n;

	cmd->tids = calloc(PR_TIDS_MAX, sizeof(*cmd->tids));
	if (!cmd->tids)
		return -ENOMEM;
	while (off < len) {
		if (cmd->ntids == PR_TIDS_MAX)
			return pr_out_fail(res, PR_NO_RESOURCES, false, -1, 0);
		n = pr_tid_parse(p + off, len - off, cmd->tids[cmd->ntids].port);
		if (n < 0)
			return pr_out_fail(res, PR_BAD_PARAM, false, (int)(base + off), -1);
		/* Our one target port. */
		cmd->tids[cmd->ntids].rtpi = nexus->rtpi;
		cmd->ntids++;
		off += (size_t)n;
	}
	return 0;
}

int pr_out_parse(const uint8_t *cdb, const uint8_t *param, size_t len, const struct pr_nexus *nexus,
		 const struct pr_caps *caps, struct pr_cmd *cmd, struct pr_result *res)
{
	uint32_t plen = get_be32(cdb + 5), tlen;
	int ret = -EINVAL;

	memset(cmd, 0, sizeof(*cmd));
	memset(res, 0, sizeof(*res));
	cmd->kind = PR_CMD_OUT;
	cmd->sa = cdb[1] & 0x1f;
	cmd->scope = cdb[2] >> 4;
	cmd->type = cdb[2] & 0x0f;
	cmd->nexus = *nexus;
	if (cmd->sa > PR_SA_REGISTER_MOVE) {
		pr_out_fail(res, PR_BAD_CDB, true, 1, 4);
		goto out;
	}
	/* Type and scope matter for these (SPC-4 6.16.2 Table 218). */
	if (cmd->sa == PR_SA_RESERVE || cmd->sa == PR_SA_RELEASE || cmd->sa == PR_SA_PREEMPT ||
	    cmd->sa == PR_SA_PREEMPT_ABORT) {
		if (cmd->scope != 0) {
			pr_out_fail(res, PR_BAD_CDB, true, 2, 7);
			goto out;
		}
		if (!pr_type_valid(cmd->type)) {
			pr_out_fail(res, PR_BAD_CDB, true, 2, 3);
			goto out;
		}
	} else {
		cmd->scope = 0;
		cmd->type = 0;
	}
	if (plen > PR_PARAM_MAX || plen > len || plen < 24) {
		pr_out_fail(res, PR_BAD_PARAM_LEN, false, -1, 0);
		goto out;
	}
	cmd->key = get_be64(param);
	cmd->sa_key = get_be64(param + 8);
	if (cmd->sa == PR_SA_REGISTER_MOVE) {
		/* SPC-4 6.16.4 Table 221. */
		if (param[17] & 0xfc || param[16]) {
			pr_out_fail(res, PR_BAD_PARAM, false, param[16] ? 16 : 17, -1);
			goto out;
		}
		cmd->unreg = param[17] & 0x02;
		cmd->aptpl = param[17] & 0x01;
		cmd->move_rtpi = get_be16(param + 18);
		tlen = get_be32(param + 20);
		if ((uint64_t)tlen + 24 != plen) {
			pr_out_fail(res, PR_BAD_PARAM_LEN, false, -1, 0);
			goto out;
		}
		cmd->tids = calloc(1, sizeof(*cmd->tids));
		if (!cmd->tids) {
			ret = -ENOMEM;
			goto out;
		}
		if (pr_tid_parse(param + 24, tlen, cmd->tids[0].port) != (int)tlen) {
			pr_out_fail(res, PR_BAD_PARAM, false, 24, -1);
			goto out;
		}
		cmd->ntids = 1;
		cmd->tids[0].rtpi = cmd->move_rtpi;
		/* One target port: it must be ours; and not a move to oneself. */
		if (cmd->move_rtpi != nexus->rtpi) {
			pr_out_fail(res, PR_BAD_PARAM, false, 18, -1);
			goto out;
		}
		if (pr_port_covers(cmd->tids[0].port, nexus->port)) {
			pr_out_fail(res, PR_BAD_PARAM, false, 24, -1);
			goto out;
		}
		if (cmd->aptpl && !caps->ptpl) {
			pr_out_fail(res, PR_BAD_PARAM, false, 17, 0);
			goto out;
		}
		ret = 0;
		goto out;
	}
	/* SPC-4 6.16.3 Table 220. */
	if (param[20] & 0xf2) {
		pr_out_fail(res, PR_BAD_PARAM, false, 20, -1);
		goto out;
	}
	cmd->spec_i_pt = param[20] & 0x08;
	cmd->all_tg_pt = param[20] & 0x04;
	cmd->aptpl = param[20] & 0x01;
	if (cmd->sa != PR_SA_REGISTER && cmd->sa != PR_SA_REGISTER_IGNORE) {
		/* Valid only for the register service actions; ignored otherwise. */
		cmd->spec_i_pt = false;
		cmd->all_tg_pt = false;
		cmd->aptpl = false;
	}
	if (cmd->aptpl && !caps->ptpl) {
		pr_out_fail(res, PR_BAD_PARAM, false, 20, 0);
		goto out;
	}
	if (cmd->spec_i_pt && cmd->sa == PR_SA_REGISTER_IGNORE) {
		/* SPC-4 5.12.7: SPEC_I_PT is invalid with REGISTER AND IGNORE EXISTING KEY. */
		pr_out_fail(res, PR_BAD_PARAM, false, 20, 3);
		goto out;
	}
	if (!cmd->spec_i_pt) {
		if (plen != 24) {
			pr_out_fail(res, PR_BAD_PARAM_LEN, false, -1, 0);
			goto out;
		}
		ret = 0;
		goto out;
	}
	if (plen < 28) {
		pr_out_fail(res, PR_BAD_PARAM_LEN, false, -1, 0);
		goto out;
	}
	tlen = get_be32(param + 24);
	if ((uint64_t)tlen + 28 != plen) {
		pr_out_fail(res, PR_BAD_PARAM_LEN, false, -1, 0);
		goto out;
	}
	/* SPEC_I_PT promises TransportIDs: an empty list is malformed. */
	if (tlen == 0) {
		pr_out_fail(res, PR_BAD_PARAM, false, 24, -1);
		goto out;
	}
	ret = pr_out_tids(param + 28, tlen, 28, nexus, cmd, res);
out:
	if (ret < 0)
		pr_cmd_release(cmd);
	return ret;
}

void pr_cmd_release(struct pr_cmd *cmd)
{
	free(cmd->tids);
	cmd->tids = NULL;
	cmd->ntids = 0;
}

/* ---- byte formats ------------------------------------------------------ */

/*
 * Command message, version 1, big-endian:
 *   0 version  1 kind  2 sa  3 scope<<4|type  4 flags (SPEC_I_PT 08h,
 *   ALL_TG_PT 04h, UNREG 02h, APTPL 01h)  5 lu_id_len  6-7 move_rtpi
 *   8-15 key  16-23 sa_key  24-39 lu_id (zero padded)
 *   40 nexus  then u16 ntids, ntids nexuses.
 * A nexus: u16 rtpi, u16 port length (1..255), the port bytes (no NUL).
 */
#define PR_CMD_HDR 40

struct pr_wbuf {
	uint8_t *p;
	size_t len, cap;
};

static void pr_w_bytes(struct pr_wbuf *w, const void *src, size_t n)
{
	if (w->p && w->len + n <= w->cap)
		memcpy(w->p + w->len, src, n);
	w->len += n;
}

static void pr_w_u16(struct pr_wbuf *w, uint16_t v)
{
	uint8_t b[2];

	put_be16(b, v);
	pr_w_bytes(w, b, 2);
}

static void pr_w_u32(struct pr_wbuf *w, uint32_t v)
{
	uint8_t b[4];

	put_be32(b, v);
	pr_w_bytes(w, b, 4);
}

static void pr_w_u64(struct pr_wbuf *w, uint64_t v)
{
	uint8_t b[8];

	put_be64(b, v);
	pr_w_bytes(w, b, 8);
}

static void pr_w_nexus(struct pr_wbuf *w, const struct pr_nexus *n)
{
	size_t len = strnlen(n->port, PR_PORT_MAX - 1);

	pr_w_u16(w, n->rtpi);
	pr_w_u16(w, (uint16_t)len);
	pr_w_bytes(w, n->port, len);
}

/* Run \p fill twice: once to size, once to write. */
static int pr_encode(void (*fill)(struct pr_wbuf *w, const void *obj), const void *obj,
		     uint8_t **out, size_t *len)
{
	struct pr_wbuf w = {0};

	fill(&w, obj);
	w.cap = w.len;
	w.len = 0;
	w.p = calloc(1, w.cap ? w.cap : 1);
	if (!w.p)
		return -ENOMEM;
	fill(&w, obj);
	*out = w.p;
	*len = w.len;
	return 0;
}

static void pr_cmd_fill(struct pr_wbuf *w, const void *obj)
{
	const struct pr_cmd *c = obj;
	uint8_t h[PR_CMD_HDR] = {0};
	size_t i;

	h[0] = PR_CMD_VERSION;
	h[1] = c->kind;
	h[2] = c->sa;
	h[3] = (uint8_t)(c->scope << 4 | (c->type & 0x0f));
	h[4] = (uint8_t)((c->spec_i_pt ? 0x08 : 0) | (c->all_tg_pt ? 0x04 : 0) |
			 (c->unreg ? 0x02 : 0) | (c->aptpl ? 0x01 : 0));
	h[5] = c->lu_id_len <= sizeof(c->lu_id) ? c->lu_id_len : 0;
	put_be16(h + 6, c->move_rtpi);
	put_be64(h + 8, c->key);
	put_be64(h + 16, c->sa_key);
	memcpy(h + 24, c->lu_id, h[5]);
	pr_w_bytes(w, h, sizeof(h));
	pr_w_nexus(w, &c->nexus);
	pr_w_u16(w, (uint16_t)c->ntids);
	for (i = 0; i < c->ntids; i++)
		pr_w_nexus(w, &c->tids[i]);
}

int pr_cmd_encode(const struct pr_cmd *cmd, uint8_t **out, size_t *len)
{
	return pr_encode(pr_cmd_fill, cmd, out, len);
}

struct pr_rbuf {
	const uint8_t *p;
	size_t len, off;
	bool bad;
};

static const uint8_t *pr_r_take(struct pr_rbuf *r, size_t n)
{
	const uint8_t *p = NULL;

	if (!r->bad && r->len - r->off >= n) {
		p = r->p + r->off;
		r->off += n;
	} else {
		r->bad = true;
	}
	return p;
}

static uint16_t pr_r_u16(struct pr_rbuf *r)
{
	const uint8_t *p = pr_r_take(r, 2);

	return p ? get_be16(p) : 0;
}

static uint32_t pr_r_u32(struct pr_rbuf *r)
{
	const uint8_t *p = pr_r_take(r, 4);

	return p ? get_be32(p) : 0;
}

static uint64_t pr_r_u64(struct pr_rbuf *r)
{
	const uint8_t *p = pr_r_take(r, 8);

	return p ? get_be64(p) : 0;
}

/* A nexus: a non-empty port without NUL bytes, shorter than PR_PORT_MAX. */
static void pr_r_nexus(struct pr_rbuf *r, struct pr_nexus *n, bool may_be_empty)
{
	size_t len;
	const uint8_t *p;

	memset(n, 0, sizeof(*n));
	n->rtpi = pr_r_u16(r);
	len = pr_r_u16(r);
	if (len >= PR_PORT_MAX || (len == 0 && !may_be_empty)) {
		r->bad = true;
		return;
	}
	p = pr_r_take(r, len);
	if (!p || memchr(p, '\0', len)) {
		r->bad = true;
		return;
	}
	memcpy(n->port, p, len);
}

int pr_cmd_decode(const uint8_t *buf, size_t len, struct pr_cmd *cmd)
{
	struct pr_rbuf r = {.p = buf, .len = len};
	const uint8_t *h = pr_r_take(&r, PR_CMD_HDR);
	size_t i, n;
	int ret = -EINVAL;

	memset(cmd, 0, sizeof(*cmd));
	if (!h || h[0] != PR_CMD_VERSION || h[1] < PR_CMD_OUT || h[1] > PR_CMD_LU_RESET ||
	    h[2] > PR_SA_REGISTER_MOVE || (h[4] & 0xf0) || h[5] > sizeof(cmd->lu_id))
		goto out;
	for (i = h[5]; i < sizeof(cmd->lu_id); i++)
		if (h[24 + i])
			goto out;
	cmd->kind = h[1];
	cmd->sa = h[2];
	cmd->scope = h[3] >> 4;
	cmd->type = h[3] & 0x0f;
	cmd->spec_i_pt = h[4] & 0x08;
	cmd->all_tg_pt = h[4] & 0x04;
	cmd->unreg = h[4] & 0x02;
	cmd->aptpl = h[4] & 0x01;
	cmd->lu_id_len = h[5];
	cmd->move_rtpi = get_be16(h + 6);
	cmd->key = get_be64(h + 8);
	cmd->sa_key = get_be64(h + 16);
	memcpy(cmd->lu_id, h + 24, cmd->lu_id_len);
	/* Only PR OUT carries service action fields. */
	if (cmd->kind != PR_CMD_OUT &&
	    (h[2] || h[3] || h[4] || cmd->move_rtpi || cmd->key || cmd->sa_key))
		goto out;
	pr_r_nexus(&r, &cmd->nexus, false);
	n = pr_r_u16(&r);
	if (r.bad || n > PR_TIDS_MAX)
		goto out;
	/* REGISTER AND MOVE has exactly one TransportID; SPEC_I_PT some; else none. */
	if (cmd->kind == PR_CMD_OUT && cmd->sa == PR_SA_REGISTER_MOVE
		    ? n != 1
		    : (n > 0) != (cmd->kind == PR_CMD_OUT && cmd->spec_i_pt))
		goto out;
	if (n) {
		cmd->tids = calloc(n, sizeof(*cmd->tids));
		if (!cmd->tids) {
			ret = -ENOMEM;
			goto out;
		}
	}
	for (i = 0; i < n && !r.bad; i++)
		pr_r_nexus(&r, &cmd->tids[i], false);
	cmd->ntids = n;
	if (r.bad || r.off != len)
		goto out;
	ret = 0;
out:
	if (ret < 0)
		pr_cmd_release(cmd);
	return ret;
}

/*
 * State, version 1, big-endian:
 *   0-3 "HPRS"  4 version  5 flags (APTPL 01h, SPC-2 reserved 02h)
 *   6 scope<<4|type  7 zero  8-11 PRgeneration  12-15 number of registrations
 *   holder nexus (empty port unless a non all registrants type is held)
 *   SPC-2 holder nexus (empty port unless SPC-2 reserved)
 *   registrations: u64 key, u8 flags (ALL_TG_PT 01h), nexus.
 */
static const uint8_t pr_state_magic[4] = {'H', 'P', 'R', 'S'};

static void pr_state_fill(struct pr_wbuf *w, const void *obj)
{
	const struct pr_state *s = obj;
	static const struct pr_nexus none;
	uint8_t h[8] = {0};
	size_t i;

	memcpy(h, pr_state_magic, 4);
	h[4] = PR_STATE_VERSION;
	h[5] = (uint8_t)((s->aptpl ? 0x01 : 0) | (s->spc2_reserved ? 0x02 : 0));
	h[6] = (uint8_t)(s->scope << 4 | (s->type & 0x0f));
	pr_w_bytes(w, h, sizeof(h));
	pr_w_u32(w, s->generation);
	pr_w_u32(w, (uint32_t)s->nregs);
	pr_w_nexus(w, s->type != PR_TYPE_NONE && !pr_type_all_regs(s->type) ? &s->holder : &none);
	pr_w_nexus(w, s->spc2_reserved ? &s->spc2_holder : &none);
	for (i = 0; i < s->nregs; i++) {
		uint8_t flags = s->regs[i].all_tg_pt ? 0x01 : 0x00;

		pr_w_u64(w, s->regs[i].key);
		pr_w_bytes(w, &flags, 1);
		pr_w_nexus(w, &s->regs[i].nexus);
	}
}

int pr_state_encode(const struct pr_state *s, uint8_t **out, size_t *len)
{
	return pr_encode(pr_state_fill, s, out, len);
}

int pr_state_decode(const uint8_t *buf, size_t len, struct pr_state **out)
{
	struct pr_rbuf r = {.p = buf, .len = len};
	const uint8_t *h = pr_r_take(&r, 8);
	struct pr_state *s = NULL;
	const uint8_t *f;
	uint32_t n, i, j;
	int ret = -EINVAL;

	if (!h || memcmp(h, pr_state_magic, 4) || h[4] != PR_STATE_VERSION || (h[5] & 0xfc) || h[7])
		goto out;
	s = pr_state_create();
	if (!s) {
		ret = -ENOMEM;
		goto out;
	}
	s->aptpl = h[5] & 0x01;
	s->spc2_reserved = h[5] & 0x02;
	s->scope = h[6] >> 4;
	s->type = h[6] & 0x0f;
	if (s->scope != 0 || (s->type != PR_TYPE_NONE && !pr_type_valid(s->type)))
		goto out;
	s->generation = pr_r_u32(&r);
	n = pr_r_u32(&r);
	if (r.bad || n > PR_REGS_MAX)
		goto out;
	pr_r_nexus(&r, &s->holder, true);
	pr_r_nexus(&r, &s->spc2_holder, true);
	/* A holder exactly when a non all registrants type is held. */
	if ((s->holder.port[0] != '\0') != (s->type != PR_TYPE_NONE && !pr_type_all_regs(s->type)))
		goto out;
	if (s->holder.port[0] == '\0' && s->holder.rtpi)
		goto out;
	if ((s->spc2_holder.port[0] != '\0') != s->spc2_reserved ||
	    (!s->spc2_reserved && s->spc2_holder.rtpi))
		goto out;
	if (n) {
		s->regs = calloc(n, sizeof(*s->regs));
		if (!s->regs) {
			ret = -ENOMEM;
			goto out;
		}
	}
	for (i = 0; i < n && !r.bad; i++) {
		s->regs[i].key = pr_r_u64(&r);
		f = pr_r_take(&r, 1);
		if (!f || (*f & 0xfe) || s->regs[i].key == 0) {
			r.bad = true;
			break;
		}
		s->regs[i].all_tg_pt = *f & 0x01;
		pr_r_nexus(&r, &s->regs[i].nexus, false);
		s->nregs = i + 1;
		/* No two registrations of the same nexus. */
		for (j = 0; j < i && !r.bad; j++)
			if (pr_nexus_equal(&s->regs[j].nexus, &s->regs[i].nexus))
				r.bad = true;
	}
	if (r.bad || r.off != len)
		goto out;
	/* A reservation needs registrations, and its holder a registration. */
	if (s->type != PR_TYPE_NONE && s->nregs == 0)
		goto out;
	if (s->type != PR_TYPE_NONE && !pr_type_all_regs(s->type) && !pr_reg_find(s, &s->holder))
		goto out;
	*out = s;
	s = NULL;
	ret = 0;
out:
	pr_state_destroy(s);
	return ret;
}

/* ---- PERSISTENT RESERVE IN (SPC-4 6.15) -------------------------------- */

/* The key a holder holds through. */
static uint64_t pr_holder_key(const struct pr_state *s)
{
	const struct pr_reg *r;

	if (pr_type_all_regs(s->type))
		return 0; /* 6.15.3.2: zero for all registrants types */
	r = pr_reg_find(s, &s->holder);
	return r ? r->key : 0;
}

static void pr_in_fill_keys(struct pr_wbuf *w, const void *obj)
{
	const struct pr_state *s = obj;
	size_t i;

	/* 6.15.2 Table 201. */
	pr_w_u32(w, s->generation);
	pr_w_u32(w, (uint32_t)(s->nregs * 8));
	for (i = 0; i < s->nregs; i++)
		pr_w_u64(w, s->regs[i].key);
}

static void pr_in_fill_reservation(struct pr_wbuf *w, const void *obj)
{
	const struct pr_state *s = obj;
	uint8_t d[16] = {0};

	/* 6.15.3 Tables 202, 203. */
	pr_w_u32(w, s->generation);
	if (s->type == PR_TYPE_NONE) {
		pr_w_u32(w, 0);
		return;
	}
	pr_w_u32(w, sizeof(d));
	put_be64(d, pr_holder_key(s));
	d[13] = (uint8_t)(s->scope << 4 | s->type);
	pr_w_bytes(w, d, sizeof(d));
}

static void pr_in_fill_full(struct pr_wbuf *w, const void *obj)
{
	const struct pr_state *s = obj;
	uint8_t d[24], tid[4 + PR_PORT_MAX + 4];
	size_t i, total = 0;
	int n;

	/* 6.15.5 Tables 207, 208. */
	for (i = 0; i < s->nregs; i++) {
		n = pr_tid_build(s->regs[i].nexus.port, tid, sizeof(tid));
		total += sizeof(d) + (size_t)(n > 0 ? n : 0);
	}
	pr_w_u32(w, s->generation);
	pr_w_u32(w, (uint32_t)total);
	for (i = 0; i < s->nregs; i++) {
		const struct pr_reg *r = &s->regs[i];
		bool holder = pr_reg_is_holder(s, r);

		n = pr_tid_build(r->nexus.port, tid, sizeof(tid));
		if (n < 0)
			n = 0;
		memset(d, 0, sizeof(d));
		put_be64(d, r->key);
		d[12] = (uint8_t)((r->all_tg_pt ? 0x02 : 0) | (holder ? 0x01 : 0));
		if (holder)
			d[13] = (uint8_t)(s->scope << 4 | s->type);
		put_be16(d + 18, r->nexus.rtpi);
		put_be32(d + 20, (uint32_t)n);
		pr_w_bytes(w, d, sizeof(d));
		pr_w_bytes(w, tid, (size_t)n);
	}
}

struct pr_caps_obj {
	const struct pr_state *s;
	const struct pr_caps *caps;
};

static void pr_in_fill_caps(struct pr_wbuf *w, const void *obj)
{
	const struct pr_caps_obj *o = obj;
	uint8_t d[8] = {0};

	/* 6.15.4 Table 204. LENGTH 8; CRH (5.12.3 exceptions), SIP_C, ATP_C, PTPL_C. */
	put_be16(d, sizeof(d));
	d[2] = 0x10 | 0x08 | 0x04 | (o->caps->ptpl ? 0x01 : 0);
	/* TMV; ALLOW COMMANDS 010b: TUR passes WE and EA, MODE SENSE etc. do not
	 * pass WE; PTPL_A: APTPL in effect. */
	d[3] = 0x80 | 0x20 | (o->s->aptpl ? 0x01 : 0);
	/* PERSISTENT RESERVATION TYPE MASK: all six types. */
	d[4] = 0x80 | 0x40 | 0x20 | 0x08 | 0x02;
	d[5] = 0x01;
	pr_w_bytes(w, d, sizeof(d));
}

int pr_in_build(const struct pr_state *s, uint8_t sa, const struct pr_caps *caps, uint8_t **out,
		size_t *len)
{
	struct pr_caps_obj o = {s, caps};

	switch (sa) {
	case PR_IN_READ_KEYS:
		return pr_encode(pr_in_fill_keys, s, out, len);
	case PR_IN_READ_RESERVATION:
		return pr_encode(pr_in_fill_reservation, s, out, len);
	case PR_IN_REPORT_CAPABILITIES:
		return pr_encode(pr_in_fill_caps, &o, out, len);
	case PR_IN_READ_FULL_STATUS:
		return pr_encode(pr_in_fill_full, s, out, len);
	default:
		return -EINVAL;
	}
}

/* ---- unit attentions kept for nexuses not connected here ---------------- */

struct pr_ua_pending_entry {
	uint8_t lu_id[16];
	uint8_t lu_id_len;
	struct pr_ua_entry ua;
};

struct pr_ua_pending {
	struct pr_ua_pending_entry *e; /* oldest first */
	size_t n, cap, max;
};

struct pr_ua_pending *pr_ua_pending_create(size_t max)
{
	struct pr_ua_pending *t = NULL;

	if (max == 0 || max > PR_UA_PENDING_MAX)
		goto out;
	t = calloc(1, sizeof(*t));
	if (t)
		t->max = max;
out:
	return t;
}

void pr_ua_pending_destroy(struct pr_ua_pending *t)
{
	if (t)
		free(t->e);
	free(t);
}

size_t pr_ua_pending_count(const struct pr_ua_pending *t)
{
	return t ? t->n : 0;
}

static bool pr_ua_pending_lu_is(const struct pr_ua_pending_entry *e, const uint8_t *lu_id,
				uint8_t lu_id_len)
{
	return e->lu_id_len == lu_id_len && memcmp(e->lu_id, lu_id, lu_id_len) == 0;
}

static bool pr_ua_valid(uint8_t ascq)
{
	return ascq == PR_UA_RESERVATIONS_PREEMPTED || ascq == PR_UA_RESERVATIONS_RELEASED ||
	       ascq == PR_UA_REGISTRATIONS_PREEMPTED;
}

static void pr_ua_pending_remove(struct pr_ua_pending *t, size_t i)
{
	memmove(t->e + i, t->e + i + 1, (t->n - i - 1) * sizeof(*t->e));
	t->n--;
}

int pr_ua_pending_add(struct pr_ua_pending *t, const uint8_t *lu_id, uint8_t lu_id_len,
		      const struct pr_ua_entry *ua)
{
	struct pr_ua_pending_entry *grown;
	size_t i, cap;
	int ret = -EINVAL;

	if (!t || lu_id_len > sizeof(t->e->lu_id) || !pr_ua_valid(ua->ascq) || !ua->nexus.port[0] ||
	    !memchr(ua->nexus.port, '\0', sizeof(ua->nexus.port)))
		goto out;
	ret = 0;
	/* SAM-5 5.14: the same condition pending twice is reported once. */
	for (i = 0; i < t->n; i++)
		if (pr_ua_pending_lu_is(&t->e[i], lu_id, lu_id_len) &&
		    t->e[i].ua.ascq == ua->ascq && pr_nexus_equal(&t->e[i].ua.nexus, &ua->nexus))
			goto out;
	if (t->n == t->max) {
		pr_ua_pending_remove(t, 0);
		ret = 1;
	}
	if (t->n == t->cap) {
		/* calloc and copy (not realloc): allocation failure is testable. */
		cap = t->cap ? t->cap * 2 : 8;
		if (cap > t->max)
			cap = t->max;
		grown = calloc(cap, sizeof(*grown));
		if (!grown) {
			ret = -ENOMEM;
			goto out;
		}
		if (t->n)
			memcpy(grown, t->e, t->n * sizeof(*grown));
		free(t->e);
		t->e = grown;
		t->cap = cap;
	}
	memset(&t->e[t->n], 0, sizeof(t->e[t->n]));
	memcpy(t->e[t->n].lu_id, lu_id, lu_id_len);
	t->e[t->n].lu_id_len = lu_id_len;
	t->e[t->n].ua = *ua;
	t->n++;
out:
	return ret;
}

size_t pr_ua_pending_take(struct pr_ua_pending *t, const uint8_t *lu_id, uint8_t lu_id_len,
			  const struct pr_nexus *nexus, uint8_t *ascq, size_t cap)
{
	size_t i = 0, n = 0;

	while (t && i < t->n && n < cap) {
		if (pr_ua_pending_lu_is(&t->e[i], lu_id, lu_id_len) &&
		    t->e[i].ua.nexus.rtpi == nexus->rtpi &&
		    pr_port_covers(t->e[i].ua.nexus.port, nexus->port)) {
			ascq[n++] = t->e[i].ua.ascq;
			pr_ua_pending_remove(t, i);
		} else {
			i++;
		}
	}
	return n;
}

void pr_ua_pending_forget(struct pr_ua_pending *t, const uint8_t *lu_id, uint8_t lu_id_len)
{
	size_t i = 0;

	while (t && i < t->n) {
		if (pr_ua_pending_lu_is(&t->e[i], lu_id, lu_id_len))
			pr_ua_pending_remove(t, i);
		else
			i++;
	}
}

int pr_ua_pending_clone(const struct pr_ua_pending *t, struct pr_ua_pending **out)
{
	struct pr_ua_pending *c = pr_ua_pending_create(t->max);
	int ret = -ENOMEM;

	if (!c)
		goto out;
	if (t->n) {
		c->e = calloc(t->n, sizeof(*c->e));
		if (!c->e) {
			pr_ua_pending_destroy(c);
			c = NULL;
			goto out;
		}
		memcpy(c->e, t->e, t->n * sizeof(*c->e));
		c->n = c->cap = t->n;
	}
	ret = 0;
out:
	*out = c;
	return ret;
}

/*
 * Version 1: u8 version, three zero bytes, u32 count; per entry (oldest
 * first): u8 LU id length (0..16), 16 bytes LU id (zero padded), u8 ASCQ
 * (2Ah/03h, 04h or 05h), u8 zero, the nexus (u16 rtpi, u16 port length,
 * port bytes).
 */
#define PR_UA_PENDING_VERSION 1

static void pr_ua_pending_fill(struct pr_wbuf *w, const void *obj)
{
	const struct pr_ua_pending *t = obj;
	uint8_t h[8] = {PR_UA_PENDING_VERSION}, e[19];
	size_t i;

	put_be32(h + 4, (uint32_t)t->n);
	pr_w_bytes(w, h, sizeof(h));
	for (i = 0; i < t->n; i++) {
		memset(e, 0, sizeof(e));
		e[0] = t->e[i].lu_id_len;
		memcpy(e + 1, t->e[i].lu_id, t->e[i].lu_id_len);
		e[17] = t->e[i].ua.ascq;
		pr_w_bytes(w, e, sizeof(e));
		pr_w_nexus(w, &t->e[i].ua.nexus);
	}
}

int pr_ua_pending_encode(const struct pr_ua_pending *t, uint8_t **out, size_t *len)
{
	return pr_encode(pr_ua_pending_fill, t, out, len);
}

int pr_ua_pending_decode(const uint8_t *buf, size_t len, size_t max, struct pr_ua_pending **out)
{
	struct pr_rbuf r = {.p = buf, .len = len};
	const uint8_t *h = pr_r_take(&r, 8), *e;
	struct pr_ua_pending *t = NULL;
	struct pr_ua_entry ua;
	uint32_t n, i;
	size_t k;
	int ret = -EINVAL;

	*out = NULL;
	if (!h || h[0] != PR_UA_PENDING_VERSION || h[1] || h[2] || h[3])
		goto out;
	n = get_be32(h + 4);
	/* At least 23 bytes an entry: refuse a count the buffer cannot hold. */
	if (n > max || n > (len - 8) / 23)
		goto out;
	t = pr_ua_pending_create(max);
	if (!t) {
		ret = max && max <= PR_UA_PENDING_MAX ? -ENOMEM : -EINVAL;
		goto out;
	}
	for (i = 0; i < n; i++) {
		e = pr_r_take(&r, 19);
		if (!e || e[0] > 16 || e[18])
			goto out;
		for (k = 1u + e[0]; k < 17; k++)
			if (e[k])
				goto out;
		memset(&ua, 0, sizeof(ua));
		ua.ascq = e[17];
		pr_r_nexus(&r, &ua.nexus, false);
		if (r.bad)
			goto out;
		/* A duplicate would be dropped silently: the encoder never makes one. */
		k = t->n;
		ret = pr_ua_pending_add(t, e + 1, e[0], &ua);
		if (ret < 0 || t->n == k) {
			ret = ret < 0 ? ret : -EINVAL;
			goto out;
		}
		ret = -EINVAL;
	}
	if (r.bad || r.len != r.off)
		goto out;
	*out = t;
	t = NULL;
	ret = 0;
out:
	pr_ua_pending_destroy(t);
	return ret;
}
