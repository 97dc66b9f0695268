/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The pure persistent reservation module (daemon/scsi/pr.c), linked alone:
 * it needs libc only.
 *
 *   initiator ports A, B, C (iSCSI, format 01b names with ISIDs)
 *        |  one target port, relative target port id 1
 *   one LU: its struct pr_state
 *
 * Clause numbers: SPC-4 r37 (5.12 reservations, 6.15 PR IN, 6.16 PR OUT,
 * 7.6.4.6 iSCSI TransportIDs), SPC-2 5.5.1 (RESERVE/RELEASE).
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "scsi/pr.h"
#include "util/be.h"

/* calloc fails on the n-th call from now (1 = next); 0 = never. */
static int calloc_fail_in;
void *__real_calloc(size_t n, size_t size);
void *__wrap_calloc(size_t n, size_t size)
{
	if (calloc_fail_in > 0 && --calloc_fail_in == 0)
		return NULL;
	return __real_calloc(n, size);
}

#define PORT_A "iqn.1993-08.org.debian:01:nodea,i,0x00023d000001"
#define PORT_B "iqn.1993-08.org.debian:01:nodeb,i,0x00023d000002"
#define PORT_C "iqn.1993-08.org.debian:01:nodec,i,0x00023d000003"
#define NODE_C "iqn.1993-08.org.debian:01:nodec"
#define RTPI 1

static struct pr_nexus nx(const char *port)
{
	struct pr_nexus n = {.rtpi = RTPI};

	snprintf(n.port, sizeof(n.port), "%s", port);
	return n;
}

static struct pr_cmd out_cmd(const char *port, uint8_t sa, uint64_t key, uint64_t sa_key,
			     uint8_t type)
{
	struct pr_cmd c = {.kind = PR_CMD_OUT, .sa = sa, .key = key, .sa_key = sa_key};

	c.type = type;
	c.nexus = nx(port);
	return c;
}

/* Apply and return the status; res is released unless kept. */
static uint8_t run(struct pr_state *s, struct pr_cmd c, struct pr_result *keep)
{
	struct pr_result res;

	assert_int_equal(pr_apply(s, &c, &res), 0);
	if (keep)
		*keep = res;
	else
		pr_result_release(&res);
	return res.status;
}

static void reg(struct pr_state *s, const char *port, uint64_t key)
{
	assert_int_equal(run(s, out_cmd(port, PR_SA_REGISTER_IGNORE, 0, key, 0), NULL), PR_OK);
}

static void reserve(struct pr_state *s, const char *port, uint64_t key, uint8_t type)
{
	assert_int_equal(run(s, out_cmd(port, PR_SA_RESERVE, key, 0, type), NULL), PR_OK);
}

static bool has_ua(const struct pr_result *r, const char *port, uint8_t ascq)
{
	size_t i;

	for (i = 0; i < r->nuas; i++)
		if (strcmp(r->uas[i].nexus.port, port) == 0 && r->uas[i].ascq == ascq)
			return true;
	return false;
}

static int setup(void **state)
{
	*state = pr_state_create();
	return *state ? 0 : -1;
}

static int teardown(void **state)
{
	pr_state_destroy(*state);
	return 0;
}

/* ---- REGISTER (5.12.7) ------------------------------------------------- */

static void register_by_unregistered_nexus_adds_key_and_bumps_generation(void **state)
{
	struct pr_state *s = *state;

	assert_int_equal(run(s, out_cmd(PORT_A, PR_SA_REGISTER, 0, 0xa, 0), NULL), PR_OK);
	assert_int_equal(s->nregs, 1);
	assert_int_equal(s->regs[0].key, 0xa);
	assert_int_equal(s->generation, 1);
}

static void register_with_key_by_unregistered_nexus_conflicts(void **state)
{
	struct pr_state *s = *state;

	assert_int_equal(run(s, out_cmd(PORT_A, PR_SA_REGISTER, 5, 0xa, 0), NULL), PR_CONFLICT);
	assert_int_equal(s->nregs, 0);
	assert_int_equal(s->generation, 0);
}

static void register_with_wrong_key_conflicts(void **state)
{
	struct pr_state *s = *state;

	reg(s, PORT_A, 0xa);
	assert_int_equal(run(s, out_cmd(PORT_A, PR_SA_REGISTER, 0xb, 0xc, 0), NULL), PR_CONFLICT);
	assert_int_equal(s->regs[0].key, 0xa);
	assert_int_equal(s->generation, 1);
}

/* 6.15.2: unregistering a nexus that is not registered is not a change. */
static void register_zero_by_unregistered_nexus_keeps_generation(void **state)
{
	struct pr_state *s = *state;

	assert_int_equal(run(s, out_cmd(PORT_A, PR_SA_REGISTER, 0, 0, 0), NULL), PR_OK);
	assert_int_equal(s->generation, 0);
	assert_int_equal(s->nregs, 0);
}

static void register_with_right_key_changes_key(void **state)
{
	struct pr_state *s = *state;

	reg(s, PORT_A, 0xa);
	assert_int_equal(run(s, out_cmd(PORT_A, PR_SA_REGISTER, 0xa, 0xaa, 0), NULL), PR_OK);
	assert_int_equal(s->regs[0].key, 0xaa);
	assert_int_equal(s->generation, 2);
}

static void register_ignore_replaces_key_whatever_the_key_given(void **state)
{
	struct pr_state *s = *state;

	reg(s, PORT_A, 0xa);
	assert_int_equal(run(s, out_cmd(PORT_A, PR_SA_REGISTER_IGNORE, 0x77, 0xab, 0), NULL),
			 PR_OK);
	assert_int_equal(s->regs[0].key, 0xab);
}

/* 5.12.11.3: the holder of a WE reservation unregisters: released, no UA. */
static void unregister_of_holder_releases_we_reservation_without_ua(void **state)
{
	struct pr_state *s = *state;
	struct pr_result r;

	reg(s, PORT_A, 0xa);
	reg(s, PORT_B, 0xb);
	reserve(s, PORT_A, 0xa, PR_TYPE_WE);
	assert_int_equal(run(s, out_cmd(PORT_A, PR_SA_REGISTER, 0xa, 0, 0), &r), PR_OK);
	assert_int_equal(s->type, PR_TYPE_NONE);
	assert_int_equal(r.nuas, 0);
	pr_result_release(&r);
}

/* 5.12.11.3: registrants only: the others get RESERVATIONS RELEASED. */
static void unregister_of_regs_only_holder_tells_other_registrants(void **state)
{
	struct pr_state *s = *state;
	struct pr_result r;

	reg(s, PORT_A, 0xa);
	reg(s, PORT_B, 0xb);
	reserve(s, PORT_A, 0xa, PR_TYPE_WERO);
	assert_int_equal(run(s, out_cmd(PORT_A, PR_SA_REGISTER, 0xa, 0, 0), &r), PR_OK);
	assert_int_equal(s->type, PR_TYPE_NONE);
	assert_int_equal(r.nuas, 1);
	assert_true(has_ua(&r, PORT_B, PR_UA_RESERVATIONS_RELEASED));
	pr_result_release(&r);
}

/* 5.12.11.3: an all registrants reservation ends with its last registrant. */
static void all_registrants_reservation_ends_with_last_registrant(void **state)
{
	struct pr_state *s = *state;

	reg(s, PORT_A, 0xa);
	reg(s, PORT_B, 0xb);
	reserve(s, PORT_A, 0xa, PR_TYPE_EAAR);
	assert_int_equal(run(s, out_cmd(PORT_A, PR_SA_REGISTER, 0xa, 0, 0), NULL), PR_OK);
	assert_int_equal(s->type, PR_TYPE_EAAR);
	assert_true(pr_is_holder(s, &(struct pr_nexus){PORT_B, RTPI}));
	assert_int_equal(run(s, out_cmd(PORT_B, PR_SA_REGISTER, 0xb, 0, 0), NULL), PR_OK);
	assert_int_equal(s->type, PR_TYPE_NONE);
}

static void registrations_beyond_the_maximum_fail_with_no_resources(void **state)
{
	struct pr_state *s = *state;
	char port[PR_PORT_MAX];
	int i;

	for (i = 0; i < PR_REGS_MAX; i++) {
		snprintf(port, sizeof(port), "iqn.2026-11.x:n%d,i,0x00023d000001", i);
		reg(s, port, 1);
	}
	assert_int_equal(run(s, out_cmd(PORT_A, PR_SA_REGISTER, 0, 1, 0), NULL), PR_NO_RESOURCES);
	assert_int_equal(s->nregs, PR_REGS_MAX);
}

/* 5.12.5: the APTPL bit of the last REGISTER governs; persist says so. */
static void register_with_aptpl_asks_to_persist(void **state)
{
	struct pr_state *s = *state;
	struct pr_cmd c = out_cmd(PORT_A, PR_SA_REGISTER, 0, 0xa, 0);
	struct pr_result r;

	c.aptpl = true;
	run(s, c, &r);
	assert_true(s->aptpl);
	assert_true(r.persist);
	pr_result_release(&r);
	c = out_cmd(PORT_A, PR_SA_REGISTER, 0xa, 0xb, 0);
	run(s, c, &r);
	assert_false(s->aptpl);
	assert_true(r.persist); /* was on: the file must go */
	pr_result_release(&r);
}

/* ---- SPEC_I_PT and node-wide TransportIDs (5.12.7, 7.6.4.6) ------------ */

static void spec_i_pt_registers_sender_and_every_transport_id(void **state)
{
	struct pr_state *s = *state;
	struct pr_nexus tids[2] = {nx(PORT_B), nx(PORT_C)};
	struct pr_cmd c = out_cmd(PORT_A, PR_SA_REGISTER, 0, 0x5, 0);

	c.spec_i_pt = true;
	c.tids = tids;
	c.ntids = 2;
	assert_int_equal(run(s, c, NULL), PR_OK);
	assert_int_equal(s->nregs, 3);
	assert_int_equal(s->generation, 1);
	assert_true(pr_is_registered(s, &tids[1]));
}

static void spec_i_pt_by_registered_nexus_is_invalid_field_in_cdb(void **state)
{
	struct pr_state *s = *state;
	struct pr_nexus tid = nx(PORT_B);
	struct pr_cmd c = out_cmd(PORT_A, PR_SA_REGISTER, 0xa, 0xa, 0);

	reg(s, PORT_A, 0xa);
	c.spec_i_pt = true;
	c.tids = &tid;
	c.ntids = 1;
	assert_int_equal(run(s, c, NULL), PR_BAD_CDB);
	assert_int_equal(s->nregs, 1);
}

static void spec_i_pt_naming_a_registered_port_is_invalid_field_in_param(void **state)
{
	struct pr_state *s = *state;
	struct pr_nexus tid = nx(PORT_B);
	struct pr_cmd c = out_cmd(PORT_A, PR_SA_REGISTER, 0, 0xa, 0);

	reg(s, PORT_B, 0xb);
	c.spec_i_pt = true;
	c.tids = &tid;
	c.ntids = 1;
	assert_int_equal(run(s, c, NULL), PR_BAD_PARAM);
	assert_int_equal(s->nregs, 1);
}

/* 7.6.4.6 format 00b: the iSCSI name alone covers every ISID of the node. */
static void node_wide_registration_covers_every_isid(void **state)
{
	struct pr_state *s = *state;
	struct pr_nexus tid = nx(NODE_C);
	struct pr_cmd c = out_cmd(PORT_A, PR_SA_REGISTER, 0, 0x5, 0);

	c.spec_i_pt = true;
	c.tids = &tid;
	c.ntids = 1;
	assert_int_equal(run(s, c, NULL), PR_OK);
	assert_true(pr_is_registered(s, &(struct pr_nexus){NODE_C ",i,0x00023d0000ff", RTPI}));
	assert_false(pr_is_registered(s, &(struct pr_nexus){NODE_C "x,i,0x00023d0000ff", RTPI}));
}

/* ---- RESERVE (5.12.9) -------------------------------------------------- */

static void reserve_by_unregistered_nexus_conflicts(void **state)
{
	struct pr_state *s = *state;

	assert_int_equal(run(s, out_cmd(PORT_A, PR_SA_RESERVE, 0, 0, PR_TYPE_WE), NULL),
			 PR_CONFLICT);
	assert_int_equal(s->type, PR_TYPE_NONE);
}

static void reserve_with_wrong_key_conflicts(void **state)
{
	struct pr_state *s = *state;

	reg(s, PORT_A, 0xa);
	assert_int_equal(run(s, out_cmd(PORT_A, PR_SA_RESERVE, 0xb, 0, PR_TYPE_WE), NULL),
			 PR_CONFLICT);
}

/* 6.15.2: RESERVE does not change PRgeneration. */
static void reserve_keeps_generation(void **state)
{
	struct pr_state *s = *state;

	reg(s, PORT_A, 0xa);
	reserve(s, PORT_A, 0xa, PR_TYPE_EA);
	assert_int_equal(s->generation, 1);
	assert_int_equal(s->type, PR_TYPE_EA);
	assert_string_equal(s->holder.port, PORT_A);
}

static void reserve_again_by_holder_with_same_type_is_good(void **state)
{
	struct pr_state *s = *state;

	reg(s, PORT_A, 0xa);
	reserve(s, PORT_A, 0xa, PR_TYPE_EA);
	reserve(s, PORT_A, 0xa, PR_TYPE_EA);
	assert_int_equal(s->type, PR_TYPE_EA);
}

static void reserve_by_holder_with_other_type_conflicts(void **state)
{
	struct pr_state *s = *state;

	reg(s, PORT_A, 0xa);
	reserve(s, PORT_A, 0xa, PR_TYPE_EA);
	assert_int_equal(run(s, out_cmd(PORT_A, PR_SA_RESERVE, 0xa, 0, PR_TYPE_WE), NULL),
			 PR_CONFLICT);
	assert_int_equal(s->type, PR_TYPE_EA);
}

static void reserve_by_other_registrant_conflicts(void **state)
{
	struct pr_state *s = *state;

	reg(s, PORT_A, 0xa);
	reg(s, PORT_B, 0xb);
	reserve(s, PORT_A, 0xa, PR_TYPE_WERO);
	assert_int_equal(run(s, out_cmd(PORT_B, PR_SA_RESERVE, 0xb, 0, PR_TYPE_WERO), NULL),
			 PR_CONFLICT);
}

/* 5.12.10: with an all registrants type every registrant holds it. */
static void reserve_by_any_registrant_of_all_registrants_is_good(void **state)
{
	struct pr_state *s = *state;

	reg(s, PORT_A, 0xa);
	reg(s, PORT_B, 0xb);
	reserve(s, PORT_A, 0xa, PR_TYPE_WEAR);
	reserve(s, PORT_B, 0xb, PR_TYPE_WEAR);
}

/* ---- RELEASE (5.12.11.2) ----------------------------------------------- */

static void release_by_registered_non_holder_is_good_and_keeps_reservation(void **state)
{
	struct pr_state *s = *state;

	reg(s, PORT_A, 0xa);
	reg(s, PORT_B, 0xb);
	reserve(s, PORT_A, 0xa, PR_TYPE_EA);
	assert_int_equal(run(s, out_cmd(PORT_B, PR_SA_RELEASE, 0xb, 0, PR_TYPE_EA), NULL), PR_OK);
	assert_int_equal(s->type, PR_TYPE_EA);
}

static void release_by_holder_with_other_type_is_invalid_release(void **state)
{
	struct pr_state *s = *state;

	reg(s, PORT_A, 0xa);
	reserve(s, PORT_A, 0xa, PR_TYPE_EA);
	assert_int_equal(run(s, out_cmd(PORT_A, PR_SA_RELEASE, 0xa, 0, PR_TYPE_WE), NULL),
			 PR_INVALID_RELEASE);
	assert_int_equal(s->type, PR_TYPE_EA);
}

static void release_of_regs_only_tells_other_registrants(void **state)
{
	struct pr_state *s = *state;
	struct pr_result r;

	reg(s, PORT_A, 0xa);
	reg(s, PORT_B, 0xb);
	reserve(s, PORT_A, 0xa, PR_TYPE_EARO);
	assert_int_equal(run(s, out_cmd(PORT_A, PR_SA_RELEASE, 0xa, 0, PR_TYPE_EARO), &r), PR_OK);
	assert_int_equal(s->type, PR_TYPE_NONE);
	assert_int_equal(s->generation, 2);
	assert_int_equal(r.nuas, 1);
	assert_true(has_ua(&r, PORT_B, PR_UA_RESERVATIONS_RELEASED));
	pr_result_release(&r);
}

static void release_of_write_exclusive_sends_no_ua(void **state)
{
	struct pr_state *s = *state;
	struct pr_result r;

	reg(s, PORT_A, 0xa);
	reg(s, PORT_B, 0xb);
	reserve(s, PORT_A, 0xa, PR_TYPE_WE);
	assert_int_equal(run(s, out_cmd(PORT_A, PR_SA_RELEASE, 0xa, 0, PR_TYPE_WE), &r), PR_OK);
	assert_int_equal(r.nuas, 0);
	pr_result_release(&r);
}

/* ---- CLEAR (5.12.11.5) ------------------------------------------------- */

static void clear_removes_all_and_tells_other_registrants(void **state)
{
	struct pr_state *s = *state;
	struct pr_result r;

	reg(s, PORT_A, 0xa);
	reg(s, PORT_B, 0xb);
	reserve(s, PORT_A, 0xa, PR_TYPE_WE);
	assert_int_equal(run(s, out_cmd(PORT_A, PR_SA_CLEAR, 0xa, 0, 0), &r), PR_OK);
	assert_int_equal(s->nregs, 0);
	assert_int_equal(s->type, PR_TYPE_NONE);
	assert_int_equal(s->generation, 3);
	assert_int_equal(r.nuas, 1);
	assert_true(has_ua(&r, PORT_B, PR_UA_RESERVATIONS_PREEMPTED));
	pr_result_release(&r);
}

static void clear_by_unregistered_nexus_conflicts(void **state)
{
	struct pr_state *s = *state;

	reg(s, PORT_A, 0xa);
	assert_int_equal(run(s, out_cmd(PORT_B, PR_SA_CLEAR, 0xa, 0, 0), NULL), PR_CONFLICT);
	assert_int_equal(s->nregs, 1);
}

/* ---- PREEMPT / PREEMPT AND ABORT (5.12.11.2.4 - 5.12.11.2.6) ----------- */

static void preempt_of_holder_takes_reservation_and_removes_registration(void **state)
{
	struct pr_state *s = *state;
	struct pr_result r;

	reg(s, PORT_A, 0xa);
	reg(s, PORT_B, 0xb);
	reserve(s, PORT_A, 0xa, PR_TYPE_WERO);
	assert_int_equal(run(s, out_cmd(PORT_B, PR_SA_PREEMPT, 0xb, 0xa, PR_TYPE_WERO), &r), PR_OK);
	assert_string_equal(s->holder.port, PORT_B);
	assert_int_equal(s->nregs, 1);
	assert_int_equal(s->generation, 3);
	assert_int_equal(r.nuas, 1);
	assert_true(has_ua(&r, PORT_A, PR_UA_REGISTRATIONS_PREEMPTED));
	assert_int_equal(r.naborts, 0);
	pr_result_release(&r);
}

static void preempt_changing_type_tells_remaining_registrants(void **state)
{
	struct pr_state *s = *state;
	struct pr_result r;

	reg(s, PORT_A, 0xa);
	reg(s, PORT_B, 0xb);
	reg(s, PORT_C, 0xc);
	reserve(s, PORT_A, 0xa, PR_TYPE_WERO);
	assert_int_equal(run(s, out_cmd(PORT_B, PR_SA_PREEMPT, 0xb, 0xa, PR_TYPE_EA), &r), PR_OK);
	assert_int_equal(s->type, PR_TYPE_EA);
	assert_true(has_ua(&r, PORT_A, PR_UA_REGISTRATIONS_PREEMPTED));
	assert_true(has_ua(&r, PORT_C, PR_UA_RESERVATIONS_RELEASED));
	assert_int_equal(r.nuas, 2);
	pr_result_release(&r);
}

static void preempt_of_non_holder_key_removes_registrations_only(void **state)
{
	struct pr_state *s = *state;

	reg(s, PORT_A, 0xa);
	reg(s, PORT_B, 0xb);
	reg(s, PORT_C, 0xc);
	reserve(s, PORT_A, 0xa, PR_TYPE_WE);
	assert_int_equal(run(s, out_cmd(PORT_B, PR_SA_PREEMPT, 0xb, 0xc, PR_TYPE_EA), NULL), PR_OK);
	assert_string_equal(s->holder.port, PORT_A);
	assert_int_equal(s->type, PR_TYPE_WE);
	assert_int_equal(s->nregs, 2);
}

static void preempt_of_unregistered_key_conflicts(void **state)
{
	struct pr_state *s = *state;

	reg(s, PORT_A, 0xa);
	assert_int_equal(run(s, out_cmd(PORT_A, PR_SA_PREEMPT, 0xa, 0x99, PR_TYPE_WE), NULL),
			 PR_CONFLICT);
	assert_int_equal(s->generation, 1);
}

static void preempt_of_key_zero_without_all_registrants_is_invalid_param(void **state)
{
	struct pr_state *s = *state;
	struct pr_result r;

	reg(s, PORT_A, 0xa);
	assert_int_equal(run(s, out_cmd(PORT_A, PR_SA_PREEMPT, 0xa, 0, PR_TYPE_WE), &r),
			 PR_BAD_PARAM);
	assert_true(r.field_valid);
	assert_int_equal(r.field_byte, 8);
	pr_result_release(&r);
}

static void preempt_of_key_zero_under_all_registrants_removes_all_others(void **state)
{
	struct pr_state *s = *state;
	struct pr_result r;

	reg(s, PORT_A, 0xa);
	reg(s, PORT_B, 0xb);
	reg(s, PORT_C, 0xc);
	reserve(s, PORT_A, 0xa, PR_TYPE_WEAR);
	assert_int_equal(run(s, out_cmd(PORT_B, PR_SA_PREEMPT, 0xb, 0, PR_TYPE_WE), &r), PR_OK);
	assert_int_equal(s->nregs, 1);
	assert_int_equal(s->type, PR_TYPE_WE);
	assert_string_equal(s->holder.port, PORT_B);
	assert_true(has_ua(&r, PORT_A, PR_UA_REGISTRATIONS_PREEMPTED));
	assert_true(has_ua(&r, PORT_C, PR_UA_REGISTRATIONS_PREEMPTED));
	pr_result_release(&r);
}

static void preempt_and_abort_lists_the_preempted_nexuses(void **state)
{
	struct pr_state *s = *state;
	struct pr_result r;

	reg(s, PORT_A, 0xa);
	reg(s, PORT_B, 0xb);
	reserve(s, PORT_A, 0xa, PR_TYPE_WERO);
	assert_int_equal(run(s, out_cmd(PORT_B, PR_SA_PREEMPT_ABORT, 0xb, 0xa, PR_TYPE_WERO), &r),
			 PR_OK);
	assert_int_equal(r.naborts, 1);
	assert_string_equal(r.aborts[0].port, PORT_A);
	pr_result_release(&r);
}

/* 5.12.11.2.4: the preempting nexus keeps its own registration. */
static void preempt_of_own_key_keeps_own_registration(void **state)
{
	struct pr_state *s = *state;

	reg(s, PORT_A, 0xa);
	reg(s, PORT_B, 0xa);
	reserve(s, PORT_A, 0xa, PR_TYPE_WE);
	assert_int_equal(run(s, out_cmd(PORT_A, PR_SA_PREEMPT, 0xa, 0xa, PR_TYPE_EA), NULL), PR_OK);
	assert_int_equal(s->nregs, 1);
	assert_string_equal(s->regs[0].nexus.port, PORT_A);
	assert_int_equal(s->type, PR_TYPE_EA);
}

/* ---- REGISTER AND MOVE (5.12.8) ---------------------------------------- */

static struct pr_cmd move_cmd(const char *from, struct pr_nexus *to, uint64_t key, uint64_t sa_key)
{
	struct pr_cmd c = out_cmd(from, PR_SA_REGISTER_MOVE, key, sa_key, 0);

	c.tids = to;
	c.ntids = 1;
	c.move_rtpi = RTPI;
	return c;
}

static void register_and_move_hands_reservation_to_target(void **state)
{
	struct pr_state *s = *state;
	struct pr_nexus to = nx(PORT_B);

	reg(s, PORT_A, 0xa);
	reserve(s, PORT_A, 0xa, PR_TYPE_EA);
	assert_int_equal(run(s, move_cmd(PORT_A, &to, 0xa, 0xb), NULL), PR_OK);
	assert_string_equal(s->holder.port, PORT_B);
	assert_int_equal(s->nregs, 2);
	assert_int_equal(s->generation, 2);
	assert_false(pr_is_holder(s, &(struct pr_nexus){PORT_A, RTPI}));
}

static void register_and_move_with_unreg_drops_sender(void **state)
{
	struct pr_state *s = *state;
	struct pr_nexus to = nx(PORT_B);
	struct pr_cmd c = move_cmd(PORT_A, &to, 0xa, 0xb);

	reg(s, PORT_A, 0xa);
	reserve(s, PORT_A, 0xa, PR_TYPE_EA);
	c.unreg = true;
	assert_int_equal(run(s, c, NULL), PR_OK);
	assert_int_equal(s->nregs, 1);
	assert_string_equal(s->regs[0].nexus.port, PORT_B);
	assert_true(pr_is_holder(s, &to));
}

static void register_and_move_by_non_holder_conflicts(void **state)
{
	struct pr_state *s = *state;
	struct pr_nexus to = nx(PORT_C);

	reg(s, PORT_A, 0xa);
	reg(s, PORT_B, 0xb);
	reserve(s, PORT_A, 0xa, PR_TYPE_EA);
	assert_int_equal(run(s, move_cmd(PORT_B, &to, 0xb, 0xc), NULL), PR_CONFLICT);
}

static void register_and_move_of_all_registrants_conflicts(void **state)
{
	struct pr_state *s = *state;
	struct pr_nexus to = nx(PORT_C);

	reg(s, PORT_A, 0xa);
	reserve(s, PORT_A, 0xa, PR_TYPE_EAAR);
	assert_int_equal(run(s, move_cmd(PORT_A, &to, 0xa, 0xc), NULL), PR_CONFLICT);
}

/* ---- SPC-2 RESERVE / RELEASE (SPC-2 5.5.1, SPC-4 5.12.3) --------------- */

static uint8_t spc2(struct pr_state *s, enum pr_cmd_kind kind, const char *port)
{
	struct pr_cmd c = {.kind = (uint8_t)kind};

	c.nexus = nx(port);
	return run(s, c, NULL);
}

static void spc2_reserve_by_other_nexus_conflicts(void **state)
{
	struct pr_state *s = *state;

	assert_int_equal(spc2(s, PR_CMD_RESERVE, PORT_A), PR_OK);
	assert_int_equal(spc2(s, PR_CMD_RESERVE, PORT_A), PR_OK);
	assert_int_equal(spc2(s, PR_CMD_RESERVE, PORT_B), PR_CONFLICT);
}

static void spc2_release_by_other_nexus_does_nothing(void **state)
{
	struct pr_state *s = *state;

	spc2(s, PR_CMD_RESERVE, PORT_A);
	assert_int_equal(spc2(s, PR_CMD_RELEASE, PORT_B), PR_OK);
	assert_true(s->spc2_reserved);
	assert_int_equal(spc2(s, PR_CMD_RELEASE, PORT_A), PR_OK);
	assert_false(s->spc2_reserved);
}

static void spc2_reserve_with_registrations_conflicts(void **state)
{
	struct pr_state *s = *state;

	reg(s, PORT_A, 0xa);
	assert_int_equal(spc2(s, PR_CMD_RESERVE, PORT_B), PR_CONFLICT);
	assert_int_equal(spc2(s, PR_CMD_RELEASE, PORT_B), PR_CONFLICT);
}

/* SPC-4 5.12.3: from a persistent reservation holder: GOOD, nothing changes. */
static void spc2_reserve_by_persistent_holder_is_good_and_changes_nothing(void **state)
{
	struct pr_state *s = *state;

	reg(s, PORT_A, 0xa);
	reserve(s, PORT_A, 0xa, PR_TYPE_WE);
	assert_int_equal(spc2(s, PR_CMD_RESERVE, PORT_A), PR_OK);
	assert_false(s->spc2_reserved);
	assert_int_equal(spc2(s, PR_CMD_RELEASE, PORT_A), PR_OK);
	assert_int_equal(s->type, PR_TYPE_WE);
}

static void nexus_loss_releases_its_spc2_reservation(void **state)
{
	struct pr_state *s = *state;

	spc2(s, PR_CMD_RESERVE, PORT_A);
	spc2(s, PR_CMD_NEXUS_LOSS, PORT_B);
	assert_true(s->spc2_reserved);
	spc2(s, PR_CMD_NEXUS_LOSS, PORT_A);
	assert_false(s->spc2_reserved);
}

static void lu_reset_releases_spc2_and_keeps_persistent(void **state)
{
	struct pr_state *s = *state;
	struct pr_state *t = pr_state_create();

	assert_non_null(t);
	spc2(t, PR_CMD_RESERVE, PORT_A);
	spc2(t, PR_CMD_LU_RESET, "lu-reset");
	assert_false(t->spc2_reserved);
	reg(s, PORT_A, 0xa);
	reserve(s, PORT_A, 0xa, PR_TYPE_EA);
	spc2(s, PR_CMD_LU_RESET, "lu-reset");
	assert_int_equal(s->type, PR_TYPE_EA);
	assert_int_equal(s->nregs, 1);
	pr_state_destroy(t);
}

static void pr_out_under_other_nexus_spc2_reservation_conflicts(void **state)
{
	struct pr_state *s = *state;

	spc2(s, PR_CMD_RESERVE, PORT_A);
	assert_int_equal(run(s, out_cmd(PORT_B, PR_SA_REGISTER, 0, 0xb, 0), NULL), PR_CONFLICT);
	assert_int_equal(run(s, out_cmd(PORT_A, PR_SA_REGISTER, 0, 0xa, 0), NULL), PR_OK);
}

/* ---- the conflict matrix (SPC-4 5.12.1 Table 63, SBC-3 4.17 Table 13) --- */

enum who { HOLDER, REGISTRANT, OTHER };

struct matrix_row {
	const char *rule;
	uint8_t type;
	enum who who;
	enum pr_class cls;
	bool conflict;
};

#define M(rule, t, w, c, x)                                                                        \
	{                                                                                          \
		rule, PR_TYPE_##t, w, PR_CLASS_##c, x                                              \
	}
static const struct matrix_row matrix[] = {
	/* No reservation: registrations alone block nothing. */
	M("5.12.1 none", NONE, REGISTRANT, READ, false),
	M("5.12.1 none", NONE, OTHER, WRITE, false),
	/* Holders are never blocked. */
	M("5.12.1 holder", WE, HOLDER, WRITE, false),
	M("5.12.1 holder", EA, HOLDER, READ, false),
	M("5.12.1 holder", EA, HOLDER, WRITE, false),
	M("5.12.1 holder", WERO, HOLDER, WRITE, false),
	M("5.12.1 holder", EARO, HOLDER, READ, false),
	M("5.12.1 holder", WEAR, HOLDER, WRITE, false),
	M("5.12.1 holder", EAAR, HOLDER, READ, false),
	/* Write Exclusive: reads shared, writes only by the holder. */
	M("Table 63 WE", WE, REGISTRANT, READ, false),
	M("Table 63 WE", WE, REGISTRANT, WRITE, true),
	M("Table 63 WE", WE, OTHER, READ, false),
	M("Table 63 WE", WE, OTHER, WRITE, true),
	/* Exclusive Access: nothing for anyone else. */
	M("Table 63 EA", EA, REGISTRANT, READ, true),
	M("Table 63 EA", EA, REGISTRANT, WRITE, true),
	M("Table 63 EA", EA, OTHER, READ, true),
	M("Table 63 EA", EA, OTHER, WRITE, true),
	/* Registrants only: registrants do everything, others read (WE) or nothing. */
	M("Table 63 WERO", WERO, REGISTRANT, READ, false),
	M("Table 63 WERO", WERO, REGISTRANT, WRITE, false),
	M("Table 63 WERO", WERO, OTHER, READ, false),
	M("Table 63 WERO", WERO, OTHER, WRITE, true),
	M("Table 63 EARO", EARO, REGISTRANT, READ, false),
	M("Table 63 EARO", EARO, REGISTRANT, WRITE, false),
	M("Table 63 EARO", EARO, OTHER, READ, true),
	M("Table 63 EARO", EARO, OTHER, WRITE, true),
	/* All registrants: as registrants only (each registrant holds it). */
	M("Table 63 WEAR", WEAR, REGISTRANT, READ, false),
	M("Table 63 WEAR", WEAR, REGISTRANT, WRITE, false),
	M("Table 63 WEAR", WEAR, OTHER, READ, false),
	M("Table 63 WEAR", WEAR, OTHER, WRITE, true),
	M("Table 63 EAAR", EAAR, REGISTRANT, READ, false),
	M("Table 63 EAAR", EAAR, REGISTRANT, WRITE, false),
	M("Table 63 EAAR", EAAR, OTHER, READ, true),
	M("Table 63 EAAR", EAAR, OTHER, WRITE, true),
	/* INQUIRY, REPORT LUNS, TUR, READ CAPACITY...: allowed under every type. */
	M("Table 63 allowed", EA, OTHER, ALLOWED, false),
	M("Table 63 allowed", EARO, OTHER, ALLOWED, false),
	M("Table 63 allowed", EAAR, OTHER, ALLOWED, false),
	/* PERSISTENT RESERVE IN/OUT pass persistent reservations. */
	M("Table 63 PR IN/OUT", EA, OTHER, PR, false),
	M("Table 63 PR IN/OUT", EARO, OTHER, PR, false),
};

static void conflict_matrix_matches_spc4_table(void **state)
{
	const char *port[] = {[HOLDER] = PORT_A, [REGISTRANT] = PORT_B, [OTHER] = PORT_C};
	size_t i;

	for (i = 0; i < sizeof(matrix) / sizeof(matrix[0]); i++) {
		const struct matrix_row *m = &matrix[i];
		struct pr_state *s = pr_state_create();
		struct pr_nexus n = nx(port[m->who]);

		assert_non_null(s);
		reg(s, PORT_A, 0xa);
		reg(s, PORT_B, 0xb);
		if (m->type != PR_TYPE_NONE)
			reserve(s, PORT_A, 0xa, m->type);
		if (pr_check(s, &n, m->cls) != m->conflict)
			fail_msg("%s: type %s, %s, class %d: conflict expected %d", m->rule,
				 pr_type_name(m->type), port[m->who], m->cls, m->conflict);
		pr_state_destroy(s);
	}
}

/* SPC-2 5.5.1: under another nexus' SPC-2 reservation only INQUIRY & co pass. */
static void spc2_reservation_blocks_all_but_allowed_commands_of_others(void **state)
{
	struct pr_state *s = *state;
	struct pr_nexus a = nx(PORT_A), b = nx(PORT_B);

	spc2(s, PR_CMD_RESERVE, PORT_A);
	assert_false(pr_check(s, &b, PR_CLASS_ALLOWED));
	assert_true(pr_check(s, &b, PR_CLASS_READ));
	assert_true(pr_check(s, &b, PR_CLASS_WRITE));
	assert_true(pr_check(s, &b, PR_CLASS_PR));
	assert_false(pr_check(s, &a, PR_CLASS_WRITE));
	assert_false(pr_check(s, &a, PR_CLASS_PR));
}

/* ---- PERSISTENT RESERVE OUT parsing (6.16) ----------------------------- */

struct pout {
	uint8_t cdb[10];
	uint8_t param[1024];
	size_t len;
};

static void pout_init(struct pout *p, uint8_t sa, uint8_t type, uint64_t key, uint64_t sa_key)
{
	memset(p, 0, sizeof(*p));
	p->cdb[0] = 0x5f;
	p->cdb[1] = sa;
	p->cdb[2] = type;
	p->len = 24;
	put_be64(p->param, key);
	put_be64(p->param + 8, sa_key);
}

static void pout_finish(struct pout *p)
{
	put_be32(p->cdb + 5, (uint32_t)p->len);
}

/* Append an iSCSI TransportID; fmt 0 or 1. */
static size_t pout_tid(uint8_t *at, int fmt, const char *name)
{
	size_t n = strlen(name), len = 4 + ((n + 1 + 3) & ~(size_t)3);

	if (len < 24)
		len = 24;
	memset(at, 0, len);
	at[0] = (uint8_t)(fmt << 6 | 0x5);
	put_be16(at + 2, (uint16_t)(len - 4));
	memcpy(at + 4, name, n);
	return len;
}

static int parse(struct pout *p, struct pr_cmd *c, struct pr_result *r, bool ptpl)
{
	struct pr_nexus n = nx(PORT_A);
	struct pr_caps caps = {.ptpl = ptpl};

	pout_finish(p);
	return pr_out_parse(p->cdb, p->param, p->len, &n, &caps, c, r);
}

static void parse_of_register_list_not_24_bytes_is_length_error(void **state)
{
	struct pout p;
	struct pr_cmd c;
	struct pr_result r;

	pout_init(&p, PR_SA_REGISTER, 0, 0, 1);
	p.len = 28;
	assert_int_equal(parse(&p, &c, &r, true), -EINVAL);
	assert_int_equal(r.status, PR_BAD_PARAM_LEN);
}

static void parse_of_list_shorter_than_cdb_says_is_length_error(void **state)
{
	struct pout p;
	struct pr_cmd c;
	struct pr_result r;
	struct pr_nexus n = nx(PORT_A);
	struct pr_caps caps = {true};

	pout_init(&p, PR_SA_REGISTER, 0, 0, 1);
	pout_finish(&p);
	assert_int_equal(pr_out_parse(p.cdb, p.param, 20, &n, &caps, &c, &r), -EINVAL);
	assert_int_equal(r.status, PR_BAD_PARAM_LEN);
}

static void parse_of_reserve_with_scope_not_lu_points_at_scope(void **state)
{
	struct pout p;
	struct pr_cmd c;
	struct pr_result r;

	pout_init(&p, PR_SA_RESERVE, 0x10 | PR_TYPE_WE, 1, 0);
	assert_int_equal(parse(&p, &c, &r, true), -EINVAL);
	assert_int_equal(r.status, PR_BAD_CDB);
	assert_int_equal(r.field_byte, 2);
	assert_int_equal(r.field_bit, 7);
}

static void parse_of_reserve_with_invalid_type_points_at_type(void **state)
{
	struct pout p;
	struct pr_cmd c;
	struct pr_result r;
	static const uint8_t bad[] = {0, 2, 4, 9, 15};
	size_t i;

	for (i = 0; i < sizeof(bad); i++) {
		pout_init(&p, PR_SA_RESERVE, bad[i], 1, 0);
		assert_int_equal(parse(&p, &c, &r, true), -EINVAL);
		assert_int_equal(r.status, PR_BAD_CDB);
		assert_int_equal(r.field_bit, 3);
	}
}

static void parse_of_aptpl_without_state_dir_is_invalid_param(void **state)
{
	struct pout p;
	struct pr_cmd c;
	struct pr_result r;

	pout_init(&p, PR_SA_REGISTER, 0, 0, 1);
	p.param[20] = 0x01;
	assert_int_equal(parse(&p, &c, &r, false), -EINVAL);
	assert_int_equal(r.status, PR_BAD_PARAM);
	assert_int_equal(r.field_byte, 20);
	assert_int_equal(r.field_bit, 0);
	assert_int_equal(parse(&p, &c, &r, true), 0);
	assert_true(c.aptpl);
	pr_cmd_release(&c);
}

static void parse_of_spec_i_pt_reads_both_transport_id_formats(void **state)
{
	struct pout p;
	struct pr_cmd c;
	struct pr_result r;
	size_t n;

	pout_init(&p, PR_SA_REGISTER, 0, 0, 1);
	p.param[20] = 0x08;
	n = pout_tid(p.param + 28, 1, "iqn.2026-11.x:b,i,0x00023D0000AB");
	n += pout_tid(p.param + 28 + n, 0, NODE_C);
	put_be32(p.param + 24, (uint32_t)n);
	p.len = 28 + n;
	assert_int_equal(parse(&p, &c, &r, true), 0);
	assert_int_equal(c.ntids, 2);
	assert_string_equal(c.tids[0].port, "iqn.2026-11.x:b,i,0x00023d0000ab");
	assert_string_equal(c.tids[1].port, NODE_C);
	assert_int_equal(c.tids[1].rtpi, RTPI);
	pr_cmd_release(&c);
}

static void parse_of_spec_i_pt_with_wrong_transport_id_length_is_length_error(void **state)
{
	struct pout p;
	struct pr_cmd c;
	struct pr_result r;
	size_t n;

	pout_init(&p, PR_SA_REGISTER, 0, 0, 1);
	p.param[20] = 0x08;
	n = pout_tid(p.param + 28, 1, PORT_B);
	put_be32(p.param + 24, (uint32_t)n + 4);
	p.len = 28 + n;
	assert_int_equal(parse(&p, &c, &r, true), -EINVAL);
	assert_int_equal(r.status, PR_BAD_PARAM_LEN);
}

static void parse_of_spec_i_pt_with_register_ignore_is_invalid_param(void **state)
{
	struct pout p;
	struct pr_cmd c;
	struct pr_result r;
	size_t n;

	pout_init(&p, PR_SA_REGISTER_IGNORE, 0, 0, 1);
	p.param[20] = 0x08;
	n = pout_tid(p.param + 28, 1, PORT_B);
	put_be32(p.param + 24, (uint32_t)n);
	p.len = 28 + n;
	assert_int_equal(parse(&p, &c, &r, true), -EINVAL);
	assert_int_equal(r.status, PR_BAD_PARAM);
	assert_int_equal(r.field_byte, 20);
	assert_int_equal(r.field_bit, 3);
}

static void parse_of_spec_i_pt_with_empty_transport_id_list_is_invalid_param(void **state)
{
	struct pout p;
	struct pr_cmd c;
	struct pr_result r;

	pout_init(&p, PR_SA_REGISTER, 0, 0, 1);
	p.param[20] = 0x08;
	p.len = 28;
	assert_int_equal(parse(&p, &c, &r, true), -EINVAL);
	assert_int_equal(r.status, PR_BAD_PARAM);
	assert_int_equal(r.field_byte, 24);
}

/* 7.6.4.6: every malformed TransportID is INVALID FIELD IN PARAMETER LIST. */
static void parse_rejects_every_malformed_transport_id(void **state)
{
	struct {
		const char *what;
		int fmt;
		const char *name;
		int patch_at, patch_val; /* -1: none */
	} bad[] = {
		{"protocol FCP", 1, PORT_B, 0, 0x40},
		{"format 10b", 1, PORT_B, 0, 0x85},
		{"reserved bits of byte 0", 1, PORT_B, 0, 0x55},
		{"additional length 16", 1, "iqn.x,i,0x00023d000001", 3, 16},
		{"additional length not a multiple of 4", 1, PORT_B, 3, 45},
		{"no NUL terminator", 1, "iqn.2026-11.abcdefghijk", 27, 'x'},
		{"padding not NUL", 1, "iqn.2026-11.x:b,i,0x00023d000002", 37, 'x'},
		{"format 01b without ISID", 1, "iqn.2026-11.x:b", -1, 0},
		{"ISID not hex", 1, "iqn.2026-11.x:b,i,0x00023d00000g", -1, 0},
		{"ISID too short", 1, "iqn.2026-11.x:b,i,0x00023d00001", -1, 0},
		{"format 00b with ISID", 0, PORT_B, -1, 0},
		{"empty name", 1, ",i,0x00023d000002", -1, 0},
		{"control character in name", 0, "iqn.2026-11.x:\tb", -1, 0},
	};
	size_t i, n;
	struct pout p;
	struct pr_cmd c;
	struct pr_result r;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		pout_init(&p, PR_SA_REGISTER, 0, 0, 1);
		p.param[20] = 0x08;
		n = pout_tid(p.param + 28, bad[i].fmt, bad[i].name);
		if (bad[i].patch_at >= 0)
			p.param[28 + bad[i].patch_at] = (uint8_t)bad[i].patch_val;
		put_be32(p.param + 24, (uint32_t)n);
		p.len = 28 + n;
		if (parse(&p, &c, &r, true) != -EINVAL || r.status != PR_BAD_PARAM)
			fail_msg("TransportID with %s accepted (status %u)", bad[i].what, r.status);
	}
}

static void parse_of_register_and_move_to_other_port_id_is_invalid_param(void **state)
{
	struct pout p;
	struct pr_cmd c;
	struct pr_result r;
	size_t n;

	pout_init(&p, PR_SA_REGISTER_MOVE, 0, 0xa, 0xb);
	n = pout_tid(p.param + 24, 1, PORT_B);
	put_be16(p.param + 18, RTPI + 1);
	put_be32(p.param + 20, (uint32_t)n);
	p.len = 24 + n;
	assert_int_equal(parse(&p, &c, &r, true), -EINVAL);
	assert_int_equal(r.status, PR_BAD_PARAM);
	assert_int_equal(r.field_byte, 18);
	put_be16(p.param + 18, RTPI);
	assert_int_equal(parse(&p, &c, &r, true), 0);
	assert_string_equal(c.tids[0].port, PORT_B);
	pr_cmd_release(&c);
}

static void parse_of_register_and_move_to_itself_is_invalid_param(void **state)
{
	struct pout p;
	struct pr_cmd c;
	struct pr_result r;
	size_t n;

	pout_init(&p, PR_SA_REGISTER_MOVE, 0, 0xa, 0xb);
	n = pout_tid(p.param + 24, 1, PORT_A);
	put_be16(p.param + 18, RTPI);
	put_be32(p.param + 20, (uint32_t)n);
	p.len = 24 + n;
	assert_int_equal(parse(&p, &c, &r, true), -EINVAL);
	assert_int_equal(r.status, PR_BAD_PARAM);
}

/* ---- byte formats ------------------------------------------------------ */

static struct pr_cmd sample_cmd(struct pr_nexus *tids)
{
	struct pr_cmd c = out_cmd(PORT_A, PR_SA_REGISTER, 0, 0x1122334455667788ull, 0);

	tids[0] = nx(PORT_B);
	tids[1] = nx(NODE_C);
	c.spec_i_pt = true;
	c.aptpl = true;
	c.all_tg_pt = true;
	c.tids = tids;
	c.ntids = 2;
	c.lu_id_len = 8;
	memset(c.lu_id, 0x60, 8);
	return c;
}

static void cmd_encode_then_decode_gives_the_same_command(void **state)
{
	struct pr_nexus tids[2];
	struct pr_cmd c = sample_cmd(tids), d;
	uint8_t *b, *b2;
	size_t len, len2;

	assert_int_equal(pr_cmd_encode(&c, &b, &len), 0);
	assert_int_equal(pr_cmd_decode(b, len, &d), 0);
	assert_int_equal(pr_cmd_encode(&d, &b2, &len2), 0);
	assert_int_equal(len, len2);
	assert_memory_equal(b, b2, len);
	assert_int_equal(d.ntids, 2);
	assert_string_equal(d.tids[1].port, NODE_C);
	assert_int_equal(d.sa_key, c.sa_key);
	pr_cmd_release(&d);
	free(b);
	free(b2);
}

static void cmd_decode_rejects_every_truncation_and_extension(void **state)
{
	struct pr_nexus tids[2];
	struct pr_cmd c = sample_cmd(tids), d;
	uint8_t *b, *longer;
	size_t len, i;

	assert_int_equal(pr_cmd_encode(&c, &b, &len), 0);
	for (i = 0; i < len; i++)
		assert_int_equal(pr_cmd_decode(b, i, &d), -EINVAL);
	longer = calloc(1, len + 1);
	assert_non_null(longer);
	memcpy(longer, b, len);
	assert_int_equal(pr_cmd_decode(longer, len + 1, &d), -EINVAL);
	free(longer);
	free(b);
}

static void cmd_decode_rejects_bad_version_flags_kind_and_strings(void **state)
{
	struct pr_nexus tids[2];
	struct pr_cmd c = sample_cmd(tids), d;
	struct {
		const char *what;
		size_t at;
		uint8_t val;
	} bad[] = {
		{"version 2", 0, 2},
		{"kind 0", 1, 0},
		{"kind 6", 1, 6},
		{"service action 8", 2, 8},
		{"unknown flag", 4, 0x10},
		{"LU id longer than 16", 5, 17},
		{"LU id padding not zero", 39, 1},
		{"NUL in a port name", 45, 0},
	};
	uint8_t *b;
	size_t len, i;

	assert_int_equal(pr_cmd_encode(&c, &b, &len), 0);
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		uint8_t keep = b[bad[i].at];

		b[bad[i].at] = bad[i].val;
		if (pr_cmd_decode(b, len, &d) != -EINVAL)
			fail_msg("command with %s decoded", bad[i].what);
		b[bad[i].at] = keep;
	}
	assert_int_equal(pr_cmd_decode(b, len, &d), 0);
	pr_cmd_release(&d);
	free(b);
}

static void cmd_decode_rejects_spec_i_pt_without_transport_ids(void **state)
{
	struct pr_cmd c = out_cmd(PORT_A, PR_SA_REGISTER, 0, 1, 0), d;
	uint8_t *b;
	size_t len;

	c.spec_i_pt = true; /* but no tids */
	assert_int_equal(pr_cmd_encode(&c, &b, &len), 0);
	assert_int_equal(pr_cmd_decode(b, len, &d), -EINVAL);
	free(b);
}

static struct pr_state *sample_state(void)
{
	struct pr_state *s = pr_state_create();
	struct pr_cmd c = out_cmd(PORT_C, PR_SA_REGISTER, 0, 0xc, 0);

	assert_non_null(s);
	reg(s, PORT_A, 0xa);
	reg(s, PORT_B, 0xb);
	c.all_tg_pt = true;
	c.aptpl = true;
	assert_int_equal(run(s, c, NULL), PR_OK);
	reserve(s, PORT_B, 0xb, PR_TYPE_EARO);
	return s;
}

static void state_encode_then_decode_gives_the_same_state(void **state)
{
	struct pr_state *s = sample_state(), *d = NULL;
	uint8_t *b;
	size_t len;

	assert_int_equal(pr_state_encode(s, &b, &len), 0);
	assert_int_equal(pr_state_decode(b, len, &d), 0);
	assert_true(pr_state_equal(s, d));
	assert_true(d->regs[2].all_tg_pt);
	assert_string_equal(d->holder.port, PORT_B);
	free(b);
	pr_state_destroy(d);
	pr_state_destroy(s);
}

static void state_decode_rejects_every_truncation_and_extension(void **state)
{
	struct pr_state *s = sample_state(), *d = NULL;
	uint8_t *b, *longer;
	size_t len, i;

	assert_int_equal(pr_state_encode(s, &b, &len), 0);
	for (i = 0; i < len; i++)
		assert_int_equal(pr_state_decode(b, i, &d), -EINVAL);
	longer = calloc(1, len + 1);
	assert_non_null(longer);
	memcpy(longer, b, len);
	assert_int_equal(pr_state_decode(longer, len + 1, &d), -EINVAL);
	free(longer);
	free(b);
	pr_state_destroy(s);
}

static void state_decode_rejects_inconsistent_states(void **state)
{
	struct pr_state *s = sample_state(), *d = NULL;
	uint8_t *b;
	size_t len;

	/* The holder's registration vanishes: a holder without registration. */
	memmove(&s->regs[1], &s->regs[2], sizeof(s->regs[0]));
	s->nregs = 2;
	assert_int_equal(pr_state_encode(s, &b, &len), 0);
	assert_int_equal(pr_state_decode(b, len, &d), -EINVAL);
	free(b);
	/* Two registrations of one nexus. */
	s->regs[1] = s->regs[0];
	s->holder = s->regs[0].nexus;
	assert_int_equal(pr_state_encode(s, &b, &len), 0);
	assert_int_equal(pr_state_decode(b, len, &d), -EINVAL);
	free(b);
	/* A key of zero, an invalid type. */
	s->nregs = 1;
	s->regs[0].key = 0;
	assert_int_equal(pr_state_encode(s, &b, &len), 0);
	assert_int_equal(pr_state_decode(b, len, &d), -EINVAL);
	free(b);
	s->regs[0].key = 1;
	s->type = 2;
	assert_int_equal(pr_state_encode(s, &b, &len), 0);
	assert_int_equal(pr_state_decode(b, len, &d), -EINVAL);
	free(b);
	pr_state_destroy(s);
}

/* ---- PERSISTENT RESERVE IN (6.15) -------------------------------------- */

static void read_keys_lists_generation_and_every_key(void **state)
{
	struct pr_state *s = sample_state();
	struct pr_caps caps = {true};
	uint8_t *b;
	size_t len;

	assert_int_equal(pr_in_build(s, PR_IN_READ_KEYS, &caps, &b, &len), 0);
	assert_int_equal(len, 8 + 3 * 8);
	assert_int_equal(get_be32(b), 3);
	assert_int_equal(get_be32(b + 4), 24);
	assert_int_equal(get_be64(b + 8), 0xa);
	assert_int_equal(get_be64(b + 24), 0xc);
	free(b);
	pr_state_destroy(s);
}

static void read_reservation_reports_holder_key_type_and_scope(void **state)
{
	struct pr_state *s = sample_state();
	struct pr_caps caps = {true};
	uint8_t *b;
	size_t len;

	assert_int_equal(pr_in_build(s, PR_IN_READ_RESERVATION, &caps, &b, &len), 0);
	assert_int_equal(len, 24);
	assert_int_equal(get_be32(b + 4), 16);
	assert_int_equal(get_be64(b + 8), 0xb);
	assert_int_equal(b[21], PR_TYPE_EARO);
	free(b);
	pr_state_destroy(s);
}

/* 6.15.3.2: an all registrants reservation reports key zero. */
static void read_reservation_of_all_registrants_reports_key_zero(void **state)
{
	struct pr_state *s = *state;
	struct pr_caps caps = {true};
	uint8_t *b;
	size_t len;

	reg(s, PORT_A, 0xa);
	reserve(s, PORT_A, 0xa, PR_TYPE_WEAR);
	assert_int_equal(pr_in_build(s, PR_IN_READ_RESERVATION, &caps, &b, &len), 0);
	assert_int_equal(get_be64(b + 8), 0);
	assert_int_equal(b[21], PR_TYPE_WEAR);
	free(b);
}

static void read_reservation_without_reservation_is_header_only(void **state)
{
	struct pr_state *s = *state;
	struct pr_caps caps = {true};
	uint8_t *b;
	size_t len;

	assert_int_equal(pr_in_build(s, PR_IN_READ_RESERVATION, &caps, &b, &len), 0);
	assert_int_equal(len, 8);
	assert_int_equal(get_be32(b + 4), 0);
	free(b);
}

/* 6.15.4: CRH, SIP_C, ATP_C, PTPL_C as capable; all six types. */
static void report_capabilities_tells_the_truth(void **state)
{
	struct pr_state *s = *state;
	struct pr_caps caps = {false};
	uint8_t *b;
	size_t len;

	assert_int_equal(pr_in_build(s, PR_IN_REPORT_CAPABILITIES, &caps, &b, &len), 0);
	assert_int_equal(len, 8);
	assert_int_equal(get_be16(b), 8);
	assert_int_equal(b[2], 0x1c); /* CRH SIP_C ATP_C, no PTPL_C without state_dir */
	assert_int_equal(b[3] & 0x81, 0x80);
	assert_int_equal(get_be16(b + 4), 0xea01);
	free(b);
}

static void read_full_status_carries_transport_ids_and_holder(void **state)
{
	struct pr_state *s = sample_state();
	struct pr_caps caps = {true};
	char port[PR_PORT_MAX];
	uint8_t *b;
	size_t len, off = 8, n = 0;
	int holders = 0;

	assert_int_equal(pr_in_build(s, PR_IN_READ_FULL_STATUS, &caps, &b, &len), 0);
	assert_int_equal(get_be32(b + 4), len - 8);
	while (off < len) {
		uint32_t dl = get_be32(b + off + 20);

		assert_int_equal(get_be16(b + off + 18), RTPI);
		assert_int_equal(pr_tid_parse(b + off + 24, dl, port), (int)dl);
		assert_string_equal(port, s->regs[n].nexus.port);
		if (b[off + 12] & 0x01) {
			holders++;
			assert_int_equal(b[off + 13], PR_TYPE_EARO);
		}
		off += 24 + dl;
		n++;
	}
	assert_int_equal(n, 3);
	assert_int_equal(holders, 1);
	free(b);
	pr_state_destroy(s);
}

/* ---- allocation failure ------------------------------------------------ */

static void apply_out_of_memory_leaves_state_unchanged(void **state)
{
	struct pr_state *s = sample_state(), *copy = NULL;
	struct pr_cmd c = out_cmd(PORT_A, PR_SA_PREEMPT, 0xa, 0xb, PR_TYPE_EA);
	struct pr_result r;
	int i, ret;

	assert_int_equal(pr_state_clone(s, &copy), 0);
	for (i = 1;; i++) {
		calloc_fail_in = i;
		ret = pr_apply(s, &c, &r);
		calloc_fail_in = 0;
		if (ret == 0)
			break;
		assert_int_equal(ret, -ENOMEM);
		assert_true(pr_state_equal(s, copy));
	}
	assert_true(i > 1);
	assert_int_equal(r.status, PR_OK);
	pr_result_release(&r);
	pr_state_destroy(copy);
	pr_state_destroy(s);
}

static void decode_out_of_memory_is_enomem(void **state)
{
	struct pr_state *s = sample_state(), *d = NULL;
	uint8_t *b;
	size_t len;
	int i, ret;

	assert_int_equal(pr_state_encode(s, &b, &len), 0);
	for (i = 1;; i++) {
		calloc_fail_in = i;
		ret = pr_state_decode(b, len, &d);
		calloc_fail_in = 0;
		if (ret == 0)
			break;
		assert_int_equal(ret, -ENOMEM);
	}
	assert_true(i > 1);
	pr_state_destroy(d);
	free(b);
	pr_state_destroy(s);
}

static void encode_out_of_memory_is_enomem(void **state)
{
	struct pr_state *s = sample_state();
	uint8_t *b = NULL;
	size_t len;

	calloc_fail_in = 1;
	assert_int_equal(pr_state_encode(s, &b, &len), -ENOMEM);
	calloc_fail_in = 0;
	assert_null(b);
	pr_state_destroy(s);
}

/* ---- unit attentions kept for nexuses not connected (SAM-5 5.14) ------- */

#define NODE_B "iqn.1993-08.org.debian:01:nodeb"

static const uint8_t lu_a[16] = {0x60, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15};
static const uint8_t lu_b[16] = {0x60, 9};

static struct pr_ua_entry ua_of(const char *port, uint16_t rtpi, uint8_t ascq)
{
	struct pr_ua_entry e;

	memset(&e, 0, sizeof(e));
	snprintf(e.nexus.port, sizeof(e.nexus.port), "%s", port);
	e.nexus.rtpi = rtpi;
	e.ascq = ascq;
	return e;
}

static struct pr_nexus nexus_of(const char *port, uint16_t rtpi)
{
	struct pr_nexus n;

	memset(&n, 0, sizeof(n));
	snprintf(n.port, sizeof(n.port), "%s", port);
	n.rtpi = rtpi;
	return n;
}

static void pending_ua_is_taken_once_by_its_nexus(void **state)
{
	struct pr_ua_pending *t = pr_ua_pending_create(8);
	struct pr_ua_entry e = ua_of(PORT_B, 1, PR_UA_REGISTRATIONS_PREEMPTED);
	struct pr_nexus n = nexus_of(PORT_B, 1);
	uint8_t ascq[4] = {0};

	assert_non_null(t);
	assert_int_equal(pr_ua_pending_add(t, lu_a, 16, &e), 0);
	assert_int_equal(pr_ua_pending_take(t, lu_a, 16, &n, ascq, 4), 1);
	assert_int_equal(ascq[0], PR_UA_REGISTRATIONS_PREEMPTED);
	assert_int_equal(pr_ua_pending_take(t, lu_a, 16, &n, ascq, 4), 0);
	assert_int_equal(pr_ua_pending_count(t), 0);
	pr_ua_pending_destroy(t);
}

/* SPC-4 5.12.11.2: a registration through a format 00b TransportID covers
 * every initiator port of the node; so does its unit attention. */
static void pending_ua_for_node_name_goes_to_a_port_of_that_node(void **state)
{
	struct pr_ua_pending *t = pr_ua_pending_create(8);
	struct pr_ua_entry e = ua_of(NODE_B, 1, PR_UA_RESERVATIONS_RELEASED);
	struct pr_nexus n = nexus_of(PORT_B, 1);
	struct pr_nexus other = nexus_of(PORT_A, 1);
	uint8_t ascq[4];

	assert_int_equal(pr_ua_pending_add(t, lu_a, 16, &e), 0);
	assert_int_equal(pr_ua_pending_take(t, lu_a, 16, &other, ascq, 4), 0);
	assert_int_equal(pr_ua_pending_take(t, lu_a, 16, &n, ascq, 4), 1);
	pr_ua_pending_destroy(t);
}

static void pending_ua_stays_for_another_lu_or_target_port(void **state)
{
	struct pr_ua_pending *t = pr_ua_pending_create(8);
	struct pr_ua_entry e = ua_of(PORT_B, 1, PR_UA_RESERVATIONS_PREEMPTED);
	struct pr_nexus port2 = nexus_of(PORT_B, 2), n = nexus_of(PORT_B, 1);
	uint8_t ascq[4];

	assert_int_equal(pr_ua_pending_add(t, lu_a, 16, &e), 0);
	assert_int_equal(pr_ua_pending_take(t, lu_b, 2, &n, ascq, 4), 0);
	assert_int_equal(pr_ua_pending_take(t, lu_a, 16, &port2, ascq, 4), 0);
	assert_int_equal(pr_ua_pending_count(t), 1);
	pr_ua_pending_destroy(t);
}

/* SAM-5 5.14: a condition already pending is reported once. */
static void pending_same_ua_twice_is_kept_once(void **state)
{
	struct pr_ua_pending *t = pr_ua_pending_create(8);
	struct pr_ua_entry e = ua_of(PORT_B, 1, PR_UA_RESERVATIONS_PREEMPTED);

	assert_int_equal(pr_ua_pending_add(t, lu_a, 16, &e), 0);
	assert_int_equal(pr_ua_pending_add(t, lu_a, 16, &e), 0);
	assert_int_equal(pr_ua_pending_count(t), 1);
	pr_ua_pending_destroy(t);
}

static void pending_full_table_drops_the_oldest(void **state)
{
	struct pr_ua_pending *t = pr_ua_pending_create(2);
	struct pr_ua_entry a = ua_of(PORT_A, 1, PR_UA_RESERVATIONS_PREEMPTED);
	struct pr_ua_entry b = ua_of(PORT_B, 1, PR_UA_RESERVATIONS_PREEMPTED);
	struct pr_ua_entry b2 = ua_of(PORT_B, 1, PR_UA_REGISTRATIONS_PREEMPTED);
	struct pr_nexus na = nexus_of(PORT_A, 1), nb = nexus_of(PORT_B, 1);
	uint8_t ascq[4];

	assert_int_equal(pr_ua_pending_add(t, lu_a, 16, &a), 0);
	assert_int_equal(pr_ua_pending_add(t, lu_a, 16, &b), 0);
	assert_int_equal(pr_ua_pending_add(t, lu_a, 16, &b2), 1);
	assert_int_equal(pr_ua_pending_take(t, lu_a, 16, &na, ascq, 4), 0);
	assert_int_equal(pr_ua_pending_take(t, lu_a, 16, &nb, ascq, 4), 2);
	/* Oldest first. */
	assert_int_equal(ascq[0], PR_UA_RESERVATIONS_PREEMPTED);
	assert_int_equal(ascq[1], PR_UA_REGISTRATIONS_PREEMPTED);
	pr_ua_pending_destroy(t);
}

static void pending_add_refuses_unknown_ascq_empty_port_and_long_lu_id(void **state)
{
	struct pr_ua_pending *t = pr_ua_pending_create(8);
	struct pr_ua_entry bad_ascq = ua_of(PORT_B, 1, 0x06);
	struct pr_ua_entry no_port = ua_of("", 1, PR_UA_RESERVATIONS_PREEMPTED);
	struct pr_ua_entry good = ua_of(PORT_B, 1, PR_UA_RESERVATIONS_PREEMPTED);

	assert_int_equal(pr_ua_pending_add(t, lu_a, 16, &bad_ascq), -EINVAL);
	assert_int_equal(pr_ua_pending_add(t, lu_a, 16, &no_port), -EINVAL);
	assert_int_equal(pr_ua_pending_add(t, lu_a, 17, &good), -EINVAL);
	assert_int_equal(pr_ua_pending_add(NULL, lu_a, 16, &good), -EINVAL);
	assert_int_equal(pr_ua_pending_count(t), 0);
	pr_ua_pending_destroy(t);
}

static void pending_create_refuses_zero_and_oversized_bounds(void **state)
{
	assert_null(pr_ua_pending_create(0));
	assert_null(pr_ua_pending_create(PR_UA_PENDING_MAX + 1));
}

static void pending_add_out_of_memory_leaves_table_unchanged(void **state)
{
	struct pr_ua_pending *t = pr_ua_pending_create(8);
	struct pr_ua_entry e = ua_of(PORT_B, 1, PR_UA_RESERVATIONS_PREEMPTED);

	calloc_fail_in = 1;
	assert_int_equal(pr_ua_pending_add(t, lu_a, 16, &e), -ENOMEM);
	calloc_fail_in = 0;
	assert_int_equal(pr_ua_pending_count(t), 0);
	pr_ua_pending_destroy(t);
}

static void pending_forget_drops_only_that_lu(void **state)
{
	struct pr_ua_pending *t = pr_ua_pending_create(8);
	struct pr_ua_entry e = ua_of(PORT_B, 1, PR_UA_RESERVATIONS_PREEMPTED);
	struct pr_nexus n = nexus_of(PORT_B, 1);
	uint8_t ascq[4];

	assert_int_equal(pr_ua_pending_add(t, lu_a, 16, &e), 0);
	assert_int_equal(pr_ua_pending_add(t, lu_b, 2, &e), 0);
	pr_ua_pending_forget(t, lu_a, 16);
	assert_int_equal(pr_ua_pending_count(t), 1);
	assert_int_equal(pr_ua_pending_take(t, lu_b, 2, &n, ascq, 4), 1);
	pr_ua_pending_destroy(t);
}

static struct pr_ua_pending *pending_sample(void)
{
	struct pr_ua_pending *t = pr_ua_pending_create(8);
	struct pr_ua_entry a = ua_of(PORT_A, 1, PR_UA_RESERVATIONS_PREEMPTED);
	struct pr_ua_entry b = ua_of(NODE_B, 3, PR_UA_REGISTRATIONS_PREEMPTED);

	assert_non_null(t);
	assert_int_equal(pr_ua_pending_add(t, lu_a, 16, &a), 0);
	assert_int_equal(pr_ua_pending_add(t, lu_b, 2, &b), 0);
	return t;
}

static void pending_encode_decode_round_trips(void **state)
{
	struct pr_ua_pending *t = pending_sample(), *d = NULL;
	struct pr_nexus nb = nexus_of(PORT_B, 3);
	uint8_t *b = NULL, *b2 = NULL, ascq[4];
	size_t len, len2;

	assert_int_equal(pr_ua_pending_encode(t, &b, &len), 0);
	assert_int_equal(pr_ua_pending_decode(b, len, 8, &d), 0);
	assert_int_equal(pr_ua_pending_encode(d, &b2, &len2), 0);
	assert_int_equal(len2, len);
	assert_memory_equal(b2, b, len);
	assert_int_equal(pr_ua_pending_take(d, lu_b, 2, &nb, ascq, 4), 1);
	assert_int_equal(ascq[0], PR_UA_REGISTRATIONS_PREEMPTED);
	free(b);
	free(b2);
	pr_ua_pending_destroy(d);
	pr_ua_pending_destroy(t);
}

static void pending_decode_refuses_every_truncation(void **state)
{
	struct pr_ua_pending *t = pending_sample(), *d = NULL;
	uint8_t *b = NULL;
	size_t len, i;

	assert_int_equal(pr_ua_pending_encode(t, &b, &len), 0);
	for (i = 0; i < len; i++) {
		assert_int_equal(pr_ua_pending_decode(b, i, 8, &d), -EINVAL);
		assert_null(d);
	}
	free(b);
	pr_ua_pending_destroy(t);
}

/* Byte offsets in the sample encoding: header 0-7; first entry: LU id
 * length 8, LU id 9-24, ASCQ 25, reserved 26, rtpi 27-28, port length
 * 29-30, port from 31. */
static void pending_decode_refuses_bad_fields(void **state)
{
	struct pr_ua_pending *t = pending_sample(), *d = NULL;
	uint8_t *b = NULL, *x;
	size_t len;
	static const struct {
		size_t off;
		uint8_t val;
	} bad[] = {
		{0, 2},	    /* version */
		{2, 1},	    /* reserved */
		{7, 3},	    /* count larger than the entries */
		{8, 17},    /* LU id length */
		{25, 0x06}, /* ASCQ */
		{26, 1},    /* reserved */
		{30, 0},    /* port length 0 */
		{31, 0},    /* a NUL in the port */
	};
	size_t i;

	assert_int_equal(pr_ua_pending_encode(t, &b, &len), 0);
	x = malloc(len + 1);
	assert_non_null(x);
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		memcpy(x, b, len);
		x[bad[i].off] = bad[i].val;
		assert_int_equal(pr_ua_pending_decode(x, len, 8, &d), -EINVAL);
		assert_null(d);
	}
	/* A trailing byte. */
	memcpy(x, b, len);
	x[len] = 0;
	assert_int_equal(pr_ua_pending_decode(x, len + 1, 8, &d), -EINVAL);
	/* More entries than the receiver keeps. */
	assert_int_equal(pr_ua_pending_decode(b, len, 1, &d), -EINVAL);
	free(x);
	free(b);
	pr_ua_pending_destroy(t);
}

static void pending_decode_refuses_a_duplicate_entry(void **state)
{
	struct pr_ua_pending *t = pr_ua_pending_create(8), *d = NULL;
	struct pr_ua_entry a = ua_of(PORT_A, 1, PR_UA_RESERVATIONS_PREEMPTED);
	uint8_t *b = NULL, *x;
	size_t len, elen;

	assert_int_equal(pr_ua_pending_add(t, lu_a, 16, &a), 0);
	assert_int_equal(pr_ua_pending_encode(t, &b, &len), 0);
	elen = len - 8;
	x = malloc(len + elen);
	assert_non_null(x);
	memcpy(x, b, len);
	memcpy(x + len, b + 8, elen);
	x[7] = 2;
	assert_int_equal(pr_ua_pending_decode(x, len + elen, 8, &d), -EINVAL);
	assert_null(d);
	free(x);
	free(b);
	pr_ua_pending_destroy(t);
}

static void pending_clone_out_of_memory_is_enomem(void **state)
{
	struct pr_ua_pending *t = pending_sample(), *c = NULL;

	calloc_fail_in = 2;
	assert_int_equal(pr_ua_pending_clone(t, &c), -ENOMEM);
	calloc_fail_in = 0;
	assert_null(c);
	assert_int_equal(pr_ua_pending_clone(t, &c), 0);
	assert_int_equal(pr_ua_pending_count(c), 2);
	pr_ua_pending_destroy(c);
	pr_ua_pending_destroy(t);
}

#define T(f) cmocka_unit_test_setup_teardown(f, setup, teardown)

int main(void)
{
	const struct CMUnitTest tests[] = {
		T(register_by_unregistered_nexus_adds_key_and_bumps_generation),
		T(register_with_key_by_unregistered_nexus_conflicts),
		T(register_with_wrong_key_conflicts),
		T(register_zero_by_unregistered_nexus_keeps_generation),
		T(register_with_right_key_changes_key),
		T(register_ignore_replaces_key_whatever_the_key_given),
		T(unregister_of_holder_releases_we_reservation_without_ua),
		T(unregister_of_regs_only_holder_tells_other_registrants),
		T(all_registrants_reservation_ends_with_last_registrant),
		T(registrations_beyond_the_maximum_fail_with_no_resources),
		T(register_with_aptpl_asks_to_persist),
		T(spec_i_pt_registers_sender_and_every_transport_id),
		T(spec_i_pt_by_registered_nexus_is_invalid_field_in_cdb),
		T(spec_i_pt_naming_a_registered_port_is_invalid_field_in_param),
		T(node_wide_registration_covers_every_isid),
		T(reserve_by_unregistered_nexus_conflicts),
		T(reserve_with_wrong_key_conflicts),
		T(reserve_keeps_generation),
		T(reserve_again_by_holder_with_same_type_is_good),
		T(reserve_by_holder_with_other_type_conflicts),
		T(reserve_by_other_registrant_conflicts),
		T(reserve_by_any_registrant_of_all_registrants_is_good),
		T(release_by_registered_non_holder_is_good_and_keeps_reservation),
		T(release_by_holder_with_other_type_is_invalid_release),
		T(release_of_regs_only_tells_other_registrants),
		T(release_of_write_exclusive_sends_no_ua),
		T(clear_removes_all_and_tells_other_registrants),
		T(clear_by_unregistered_nexus_conflicts),
		T(preempt_of_holder_takes_reservation_and_removes_registration),
		T(preempt_changing_type_tells_remaining_registrants),
		T(preempt_of_non_holder_key_removes_registrations_only),
		T(preempt_of_unregistered_key_conflicts),
		T(preempt_of_key_zero_without_all_registrants_is_invalid_param),
		T(preempt_of_key_zero_under_all_registrants_removes_all_others),
		T(preempt_and_abort_lists_the_preempted_nexuses),
		T(preempt_of_own_key_keeps_own_registration),
		T(register_and_move_hands_reservation_to_target),
		T(register_and_move_with_unreg_drops_sender),
		T(register_and_move_by_non_holder_conflicts),
		T(register_and_move_of_all_registrants_conflicts),
		T(spc2_reserve_by_other_nexus_conflicts),
		T(spc2_release_by_other_nexus_does_nothing),
		T(spc2_reserve_with_registrations_conflicts),
		T(spc2_reserve_by_persistent_holder_is_good_and_changes_nothing),
		T(nexus_loss_releases_its_spc2_reservation),
		T(lu_reset_releases_spc2_and_keeps_persistent),
		T(pr_out_under_other_nexus_spc2_reservation_conflicts),
		T(conflict_matrix_matches_spc4_table),
		T(spc2_reservation_blocks_all_but_allowed_commands_of_others),
		T(parse_of_register_list_not_24_bytes_is_length_error),
		T(parse_of_list_shorter_than_cdb_says_is_length_error),
		T(parse_of_reserve_with_scope_not_lu_points_at_scope),
		T(parse_of_reserve_with_invalid_type_points_at_type),
		T(parse_of_aptpl_without_state_dir_is_invalid_param),
		T(parse_of_spec_i_pt_reads_both_transport_id_formats),
		T(parse_of_spec_i_pt_with_wrong_transport_id_length_is_length_error),
		T(parse_of_spec_i_pt_with_register_ignore_is_invalid_param),
		T(parse_of_spec_i_pt_with_empty_transport_id_list_is_invalid_param),
		T(parse_rejects_every_malformed_transport_id),
		T(parse_of_register_and_move_to_other_port_id_is_invalid_param),
		T(parse_of_register_and_move_to_itself_is_invalid_param),
		T(cmd_encode_then_decode_gives_the_same_command),
		T(cmd_decode_rejects_every_truncation_and_extension),
		T(cmd_decode_rejects_bad_version_flags_kind_and_strings),
		T(cmd_decode_rejects_spec_i_pt_without_transport_ids),
		T(state_encode_then_decode_gives_the_same_state),
		T(state_decode_rejects_every_truncation_and_extension),
		T(state_decode_rejects_inconsistent_states),
		T(read_keys_lists_generation_and_every_key),
		T(read_reservation_reports_holder_key_type_and_scope),
		T(read_reservation_of_all_registrants_reports_key_zero),
		T(read_reservation_without_reservation_is_header_only),
		T(report_capabilities_tells_the_truth),
		T(read_full_status_carries_transport_ids_and_holder),
		T(apply_out_of_memory_leaves_state_unchanged),
		T(decode_out_of_memory_is_enomem),
		T(encode_out_of_memory_is_enomem),
		T(pending_ua_is_taken_once_by_its_nexus),
		T(pending_ua_for_node_name_goes_to_a_port_of_that_node),
		T(pending_ua_stays_for_another_lu_or_target_port),
		T(pending_same_ua_twice_is_kept_once),
		T(pending_full_table_drops_the_oldest),
		T(pending_add_refuses_unknown_ascq_empty_port_and_long_lu_id),
		T(pending_create_refuses_zero_and_oversized_bounds),
		T(pending_add_out_of_memory_leaves_table_unchanged),
		T(pending_forget_drops_only_that_lu),
		T(pending_encode_decode_round_trips),
		T(pending_decode_refuses_every_truncation),
		T(pending_decode_refuses_bad_fields),
		T(pending_decode_refuses_a_duplicate_entry),
		T(pending_clone_out_of_memory_is_enomem),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
