/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Reservations through the SCSI layer (daemon/scsi/spc_pr.c, pr_store.c):
 *
 *   initiator A "iqn.1993-08.org.debian:01:host1,i,0x00023d000001"  (f->itn)
 *   initiator B "iqn.1993-08.org.debian:01:host2,i,0x00023d000002"
 *        |  I_T nexuses, rtpi 1
 *   LU 0: 1 MiB temp file; state_dir = the fixture's temp directory
 *
 * Commands run through scsi_task_exec() with the local committer (or a
 * deferring test committer); APTPL files land in the fixture directory.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/stat.h>

#include <cmocka.h>

#include "scsi_fixture_test.h"
#include "scsi/pr.h"
#include "scsi/pr_commit.h"
#include "util/be.h"

#define PORT_B "iqn.1993-08.org.debian:01:host2,i,0x00023d000002"

struct prf {
	struct fix fix;
	struct scsi_itn *b;
	uint8_t param[512];
	int aborts;
	struct scsi_itn_id aborted;
};

static struct prf *prf_of(void **state)
{
	return *state;
}

static int setup(void **state)
{
	struct prf *p = calloc(1, sizeof(*p));
	struct fix *f;

	assert_non_null(p);
	f = &p->fix;
	snprintf(f->dir, sizeof(f->dir), "/tmp/hatgt-pr-XXXXXX");
	assert_non_null(mkdtemp(f->dir));
	snprintf(f->path, sizeof(f->path), "%s/lu0.img", f->dir);
	scsi_pr_state_dir_set(f->dir);
	scsi_pr_position_set(0, 0);
	scsi_pr_committer_set(NULL);
	assert_int_equal(scsi_init(), 0);
	fix_config_default(f);
	fix_lu_create(f);
	f->itn = fix_itn_create(FIX_INITIATOR, 1);
	p->b = fix_itn_create(PORT_B, 1);
	assert_non_null(f->itn);
	assert_non_null(p->b);
	f->lun_list.luns = f->luns;
	f->lun_list.count = 1;
	/* Both nexuses take their POWER ON unit attention. */
	fix_run(f, FIX_CDB(0x00, 0, 0, 0, 0, 0), 0);
	fix_run_on(f, f->lu, p->b, FIX_CDB(0x00, 0, 0, 0, 0, 0), 0);
	*state = p;
	return 0;
}

static int teardown(void **state)
{
	struct prf *p = *state;
	struct fix *f = &p->fix;
	char file[4096];

	scsi_abort_hook_set(NULL, NULL);
	scsi_pr_committer_set(NULL);
	fix_calloc_fail_in = 0;
	scsi_task_release(&f->task);
	scsi_itn_destroy(p->b);
	scsi_itn_destroy(f->itn);
	scsi_lu_put(f->lu);
	scsi_fini();
	if (pr_store_path(f->dir, f->cfg.naa, f->cfg.naa_len, file, sizeof(file)) == 0)
		unlink(file);
	scsi_pr_state_dir_set(NULL);
	unlink(f->path);
	rmdir(f->dir);
	free(p);
	return 0;
}

/* PERSISTENT RESERVE OUT from nexus \p itn with a 24-byte parameter list. */
static void pr_out(struct prf *p, struct scsi_itn *itn, uint8_t sa, uint8_t type, uint64_t key,
		   uint64_t sa_key, uint8_t flags)
{
	struct fix *f = &p->fix;
	uint8_t cdb[10] = {0x5f, sa, type};

	memset(p->param, 0, sizeof(p->param));
	put_be64(p->param, key);
	put_be64(p->param + 8, sa_key);
	p->param[20] = flags;
	put_be32(cdb + 5, 24);
	f->out = p->param;
	f->out_len = 24;
	fix_run_on(f, f->lu, itn, cdb, sizeof(cdb), 0);
	f->out = NULL;
	f->out_len = 0;
}

static void pr_in(struct prf *p, struct scsi_itn *itn, uint8_t sa)
{
	fix_run_on(&p->fix, p->fix.lu, itn, FIX_CDB(0x5e, sa, 0, 0, 0, 0, 0, 0x02, 0x00, 0), 512);
}

static void write10(struct prf *p, struct scsi_itn *itn)
{
	static uint8_t block[512];
	struct fix *f = &p->fix;

	f->out = block;
	f->out_len = sizeof(block);
	fix_run_on(f, f->lu, itn, FIX_CDB(0x2a, 0, 0, 0, 0, 0, 0, 0, 1, 0), 512);
	f->out = NULL;
	f->out_len = 0;
}

static void register_then_read_keys_reports_key_and_generation(void **state)
{
	struct prf *p = prf_of(state);

	pr_out(p, p->fix.itn, PR_SA_REGISTER, 0, 0, 0xabc, 0);
	fix_assert_good(&p->fix.task);
	pr_in(p, p->b, PR_IN_READ_KEYS);
	fix_assert_good(&p->fix.task);
	assert_int_equal(p->fix.task.in_len, 16);
	assert_int_equal(get_be32(p->fix.task.in_buf), 1);
	assert_int_equal(get_be64(p->fix.task.in_buf + 8), 0xabc);
}

/* SPC-4 5.12.1 through the dispatch table: WRITE(10) is a write. */
static void write_by_other_nexus_under_exclusive_access_conflicts(void **state)
{
	struct prf *p = prf_of(state);

	pr_out(p, p->fix.itn, PR_SA_REGISTER, 0, 0, 0xa, 0);
	pr_out(p, p->fix.itn, PR_SA_RESERVE, PR_TYPE_EA, 0xa, 0, 0);
	fix_assert_good(&p->fix.task);
	write10(p, p->b);
	assert_int_equal(p->fix.task.status, SCSI_STATUS_RESERVATION_CONFLICT);
	write10(p, p->fix.itn);
	fix_assert_good(&p->fix.task);
}

/* SPC-4 5.12.1: INQUIRY, TEST UNIT READY, REPORT LUNS pass every reservation. */
static void allowed_commands_pass_exclusive_access_of_other_nexus(void **state)
{
	struct prf *p = prf_of(state);
	struct fix *f = &p->fix;

	pr_out(p, f->itn, PR_SA_REGISTER, 0, 0, 0xa, 0);
	pr_out(p, f->itn, PR_SA_RESERVE, PR_TYPE_EA, 0xa, 0, 0);
	fix_run_on(f, f->lu, p->b, FIX_CDB(0x12, 0, 0, 0, 96, 0), 96);
	fix_assert_good(&f->task);
	fix_run_on(f, f->lu, p->b, FIX_CDB(0x00, 0, 0, 0, 0, 0), 0);
	fix_assert_good(&f->task);
	fix_run_on(f, f->lu, p->b, FIX_CDB(0xa0, 0, 0, 0, 0, 0, 0, 0, 1, 0, 0, 0), 256);
	fix_assert_good(&f->task);
	/* MODE SENSE conflicts like a write (SPC-4 Table 63). */
	fix_run_on(f, f->lu, p->b, FIX_CDB(0x1a, 0, 0x3f, 0, 255, 0), 255);
	assert_int_equal(f->task.status, SCSI_STATUS_RESERVATION_CONFLICT);
}

/* SBC-3 4.17 Table 13: START STOP UNIT passes with START=1 only;
 * READ CAPACITY(16) passes every reservation. */
static void start_stop_unit_class_depends_on_its_cdb(void **state)
{
	struct prf *p = prf_of(state);
	struct fix *f = &p->fix;

	pr_out(p, f->itn, PR_SA_REGISTER, 0, 0, 0xa, 0);
	pr_out(p, f->itn, PR_SA_RESERVE, PR_TYPE_EA, 0xa, 0, 0);
	fix_run_on(f, f->lu, p->b, FIX_CDB(0x1b, 0, 0, 0, 0x01, 0), 0);
	fix_assert_good(&f->task);
	fix_run_on(f, f->lu, p->b, FIX_CDB(0x1b, 0, 0, 0, 0x00, 0), 0);
	assert_int_equal(f->task.status, SCSI_STATUS_RESERVATION_CONFLICT);
	fix_run_on(f, f->lu, p->b, FIX_CDB(0x9e, 0x10, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 32, 0, 0),
		   32);
	fix_assert_good(&f->task);
}

/* SBC-3 4.17 Table 13: COMPARE AND WRITE reads and writes: a write;
 * GET LBA STATUS is a read. */
static void compare_and_write_conflicts_as_a_write_and_get_lba_status_as_a_read(void **state)
{
	struct prf *p = prf_of(state);
	struct fix *f = &p->fix;

	pr_out(p, f->itn, PR_SA_REGISTER, 0, 0, 0xa, 0);
	pr_out(p, f->itn, PR_SA_RESERVE, PR_TYPE_WE, 0xa, 0, 0);
	f->out = p->param;
	f->out_len = 0;
	fix_run_on(f, f->lu, p->b, FIX_CDB(0x89, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 0, 0), 0);
	f->out = NULL;
	assert_int_equal(f->task.status, SCSI_STATUS_RESERVATION_CONFLICT);
	fix_run_on(f, f->lu, p->b, FIX_CDB(0x9e, 0x12, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 32, 0, 0),
		   32);
	fix_assert_good(&f->task);
	pr_out(p, f->itn, PR_SA_PREEMPT, PR_TYPE_EA, 0xa, 0xa, 0);
	fix_assert_good(&f->task);
	fix_run_on(f, f->lu, p->b, FIX_CDB(0x9e, 0x12, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 32, 0, 0),
		   32);
	assert_int_equal(f->task.status, SCSI_STATUS_RESERVATION_CONFLICT);
}

/* SPC-2 5.5.1: PR IN conflicts under another nexus' RESERVE(6). */
static void reserve6_blocks_other_nexus_until_its_nexus_is_lost(void **state)
{
	struct prf *p = prf_of(state);
	struct fix *f = &p->fix;

	fix_run_on(f, f->lu, p->b, FIX_CDB(0x16, 0, 0, 0, 0, 0), 0);
	fix_assert_good(&f->task);
	pr_in(p, f->itn, PR_IN_READ_KEYS);
	assert_int_equal(f->task.status, SCSI_STATUS_RESERVATION_CONFLICT);
	fix_run(f, FIX_CDB(0x16, 0, 0, 0, 0, 0), 0);
	assert_int_equal(f->task.status, SCSI_STATUS_RESERVATION_CONFLICT);
	scsi_itn_destroy(p->b);
	p->b = NULL;
	fix_run(f, FIX_CDB(0x16, 0, 0, 0, 0, 0), 0);
	fix_assert_good(&f->task);
}

static void lu_reset_releases_reserve6(void **state)
{
	struct prf *p = prf_of(state);
	struct fix *f = &p->fix;

	fix_run_on(f, f->lu, p->b, FIX_CDB(0x16, 0, 0, 0, 0, 0), 0);
	scsi_lu_reset(f->lu);
	fix_run(f, FIX_CDB(0x00, 0, 0, 0, 0, 0), 0); /* the reset UA */
	fix_run(f, FIX_CDB(0x16, 0, 0, 0, 0, 0), 0);
	fix_assert_good(&f->task);
}

static void reserve6_with_third_party_bit_is_invalid_field(void **state)
{
	struct prf *p = prf_of(state);

	fix_run(&p->fix, FIX_CDB(0x16, 0x10, 0, 0, 0, 0), 0);
	fix_assert_invalid_field(&p->fix.task, 1);
}

/* SPC-4 5.12.11.2.4: the preempted nexus gets REGISTRATIONS PREEMPTED. */
static void preempt_queues_registrations_preempted_for_victim(void **state)
{
	struct prf *p = prf_of(state);
	struct fix *f = &p->fix;

	pr_out(p, f->itn, PR_SA_REGISTER, 0, 0, 0xa, 0);
	pr_out(p, p->b, PR_SA_REGISTER, 0, 0, 0xb, 0);
	pr_out(p, p->b, PR_SA_PREEMPT, PR_TYPE_WERO, 0xb, 0xa, 0);
	fix_assert_good(&f->task);
	fix_run(f, FIX_CDB(0x00, 0, 0, 0, 0, 0), 0);
	fix_assert_sense(&f->task, 0x6, 0x2a, 0x05);
	fix_run_on(f, f->lu, p->b, FIX_CDB(0x00, 0, 0, 0, 0, 0), 0);
	fix_assert_good(&f->task);
}

static void abort_hook(void *ctx, struct scsi_lu *lu, const struct scsi_itn_id *id)
{
	struct prf *p = ctx;

	p->aborts++;
	p->aborted = *id;
}

/* SPC-4 5.12.11.2.6: the transport aborts the preempted nexus' tasks. */
static void preempt_and_abort_asks_transport_to_abort_victim(void **state)
{
	struct prf *p = prf_of(state);
	struct fix *f = &p->fix;

	scsi_abort_hook_set(abort_hook, p);
	pr_out(p, f->itn, PR_SA_REGISTER, 0, 0, 0xa, 0);
	pr_out(p, p->b, PR_SA_REGISTER, 0, 0, 0xb, 0);
	pr_out(p, p->b, PR_SA_PREEMPT_ABORT, PR_TYPE_WERO, 0xb, 0xa, 0);
	fix_assert_good(&f->task);
	assert_int_equal(p->aborts, 1);
	assert_string_equal(p->aborted.initiator_port, FIX_INITIATOR);
}

/* SPC-4 5.12.11.2: the holder releasing with another type. */
static void release_with_wrong_type_is_invalid_release_of_persistent_reservation(void **state)
{
	struct prf *p = prf_of(state);

	pr_out(p, p->fix.itn, PR_SA_REGISTER, 0, 0, 0xa, 0);
	pr_out(p, p->fix.itn, PR_SA_RESERVE, PR_TYPE_EA, 0xa, 0, 0);
	pr_out(p, p->fix.itn, PR_SA_RELEASE, PR_TYPE_WE, 0xa, 0, 0);
	fix_assert_sense(&p->fix.task, 0x5, 0x26, 0x04);
}

static void short_parameter_list_is_parameter_list_length_error(void **state)
{
	struct prf *p = prf_of(state);
	struct fix *f = &p->fix;
	uint8_t cdb[10] = {0x5f, PR_SA_REGISTER, 0};

	put_be32(cdb + 5, 20);
	f->out = p->param;
	f->out_len = 20;
	fix_run(f, cdb, sizeof(cdb), 0);
	fix_assert_sense(&f->task, 0x5, 0x1a, 0x00);
}

static void bad_transport_id_is_invalid_field_in_parameter_list(void **state)
{
	struct prf *p = prf_of(state);
	struct fix *f = &p->fix;
	uint8_t cdb[10] = {0x5f, PR_SA_REGISTER, 0};

	memset(p->param, 0, sizeof(p->param));
	put_be64(p->param + 8, 0xa);
	p->param[20] = 0x08;	     /* SPEC_I_PT */
	put_be32(p->param + 24, 24); /* one 24-byte TransportID */
	p->param[28] = 0x41;	     /* format 01b, protocol 1 (SPI): not ours */
	put_be16(p->param + 30, 20);
	put_be32(cdb + 5, 52);
	f->out = p->param;
	f->out_len = 52;
	fix_run(f, cdb, sizeof(cdb), 0);
	fix_assert_sense(&f->task, 0x5, 0x26, 0x00);
	assert_int_equal(f->task.sense[15] & 0xc0, 0x80); /* SKSV, C/D = parameter data */
	assert_int_equal(get_be16(f->task.sense + 16), 28);
}

static void aptpl_state_is_written_and_loaded_with_a_new_lu(void **state)
{
	struct prf *p = prf_of(state);
	struct fix *f = &p->fix;
	struct scsi_lu *lu2 = NULL;
	uint64_t epoch, gen;

	scsi_pr_position_set(7, 41);
	pr_out(p, f->itn, PR_SA_REGISTER, 0, 0, 0xa, 0x01);
	fix_assert_good(&f->task);
	pr_out(p, f->itn, PR_SA_RESERVE, PR_TYPE_WERO, 0xa, 0, 0);
	fix_assert_good(&f->task);
	scsi_task_release(&f->task);
	scsi_lu_put(f->lu);
	f->lu = NULL;
	scsi_pr_position_set(0, 0);
	assert_int_equal(scsi_lu_create(&f->cfg, &lu2), 0);
	f->lu = lu2;
	/* The file's position (7, 43): two messages after (7, 41). */
	scsi_pr_position_get(&epoch, &gen);
	assert_int_equal(epoch, 7);
	assert_int_equal(gen, 43);
	fix_run_on(f, f->lu, p->b, FIX_CDB(0x00, 0, 0, 0, 0, 0), 0); /* the new LU's POWER ON */
	pr_in(p, p->b, PR_IN_READ_RESERVATION);
	fix_assert_good(&f->task);
	assert_int_equal(get_be64(f->task.in_buf + 8), 0xa);
	assert_int_equal(f->task.in_buf[21], PR_TYPE_WERO);
}

static void corrupt_state_file_fails_lu_creation(void **state)
{
	struct prf *p = prf_of(state);
	struct fix *f = &p->fix;
	struct scsi_lu *lu2 = NULL;
	char file[4096];
	struct stat st;

	pr_out(p, f->itn, PR_SA_REGISTER, 0, 0, 0xa, 0x01);
	assert_int_equal(pr_store_path(f->dir, f->cfg.naa, f->cfg.naa_len, file, sizeof(file)), 0);
	assert_int_equal(stat(file, &st), 0);
	assert_int_equal(truncate(file, st.st_size - 1), 0);
	assert_int_equal(scsi_lu_create(&f->cfg, &lu2), -EINVAL);
	assert_null(lu2);
	/* Refused, not emptied. */
	assert_int_equal(stat(file, &st), 0);
	assert_true(st.st_size > 0);
}

static void register_without_aptpl_removes_state_file(void **state)
{
	struct prf *p = prf_of(state);
	struct fix *f = &p->fix;
	char file[4096];
	struct stat st;

	pr_out(p, f->itn, PR_SA_REGISTER, 0, 0, 0xa, 0x01);
	assert_int_equal(pr_store_path(f->dir, f->cfg.naa, f->cfg.naa_len, file, sizeof(file)), 0);
	assert_int_equal(stat(file, &st), 0);
	pr_out(p, f->itn, PR_SA_REGISTER, 0, 0xa, 0xa, 0);
	fix_assert_good(&f->task);
	assert_int_equal(stat(file, &st), -1);
}

static void aptpl_without_state_dir_is_invalid_field_in_parameter_list(void **state)
{
	struct prf *p = prf_of(state);

	scsi_pr_state_dir_set(NULL);
	pr_out(p, p->fix.itn, PR_SA_REGISTER, 0, 0, 0xa, 0x01);
	fix_assert_sense(&p->fix.task, 0x5, 0x26, 0x00);
}

static void deliver_refuses_garbage_and_unknown_lu(void **state)
{
	struct prf *p = prf_of(state);
	struct pr_cmd c = {.kind = PR_CMD_RELEASE};
	struct scsi_pr_result res;
	uint8_t junk[8] = {1, 2, 3}, *msg;
	size_t len;

	assert_int_equal(scsi_pr_deliver(junk, sizeof(junk), &res), -EINVAL);
	assert_int_equal(res.status, SCSI_STATUS_CHECK_CONDITION);
	snprintf(c.nexus.port, sizeof(c.nexus.port), "%s", PORT_B);
	c.lu_id_len = 8;
	memset(c.lu_id, 0x99, 8);
	assert_int_equal(pr_cmd_encode(&c, &msg, &len), 0);
	assert_int_equal(scsi_pr_deliver(msg, len, NULL), -ENOENT);
	free(msg);
	(void)p;
}

static void snapshot_installs_the_same_state(void **state)
{
	struct prf *p = prf_of(state);
	struct fix *f = &p->fix;
	uint8_t *snap;
	size_t len;

	pr_out(p, f->itn, PR_SA_REGISTER, 0, 0, 0xa, 0);
	pr_out(p, f->itn, PR_SA_RESERVE, PR_TYPE_EA, 0xa, 0, 0);
	assert_int_equal(scsi_pr_snapshot(&snap, &len), 0);
	pr_out(p, f->itn, PR_SA_CLEAR, 0, 0xa, 0, 0);
	fix_assert_good(&f->task);
	assert_int_equal(scsi_pr_snapshot_install(snap, len), 0);
	write10(p, p->b);
	assert_int_equal(f->task.status, SCSI_STATUS_RESERVATION_CONFLICT);
	free(snap);
}

static void snapshot_install_refuses_every_truncation(void **state)
{
	struct prf *p = prf_of(state);
	struct fix *f = &p->fix;
	uint8_t *snap;
	size_t len, i;

	pr_out(p, f->itn, PR_SA_REGISTER, 0, 0, 0xa, 0);
	assert_int_equal(scsi_pr_snapshot(&snap, &len), 0);
	pr_out(p, f->itn, PR_SA_REGISTER, 0, 0xa, 0, 0);
	for (i = 0; i < len; i++)
		assert_int_equal(scsi_pr_snapshot_install(snap, i), -EINVAL);
	/* Nothing was installed: still unregistered. */
	pr_in(p, f->itn, PR_IN_READ_KEYS);
	assert_int_equal(get_be32(f->task.in_buf + 4), 0);
	free(snap);
}

/* A registered, B registered; B's nexus is lost (B is "connected to the
 * other node") when \p connected is false; then A preempts B. */
static void preempt_b(struct prf *p, bool connected)
{
	struct fix *f = &p->fix;

	pr_out(p, f->itn, PR_SA_REGISTER, 0, 0, 0xa, 0);
	pr_out(p, p->b, PR_SA_REGISTER, 0, 0, 0xb, 0);
	if (!connected) {
		scsi_itn_destroy(p->b);
		p->b = NULL;
	}
	pr_out(p, f->itn, PR_SA_PREEMPT, PR_TYPE_WERO, 0xa, 0xb, 0);
	fix_assert_good(&f->task);
}

/* B logs in again (a new nexus, any old one lost first); its first command
 * reports POWER ON. */
static void relogin_b(struct prf *p)
{
	struct fix *f = &p->fix;

	scsi_itn_destroy(p->b);
	p->b = fix_itn_create(PORT_B, 1);
	assert_non_null(p->b);
	fix_run_on(f, f->lu, p->b, FIX_CDB(0x00, 0, 0, 0, 0, 0), 0);
	fix_assert_sense(&f->task, 0x6, 0x29, 0x00);
}

static void tur_b(struct prf *p)
{
	fix_run_on(&p->fix, p->fix.lu, p->b, FIX_CDB(0x00, 0, 0, 0, 0, 0), 0);
}

/*
 * SAM-5 5.14: a unit attention belongs to the I_T nexus (port name + rtpi),
 * connected or not. B is registered but logged out when A preempts it; when
 * B logs in again it gets POWER ON, then REGISTRATIONS PREEMPTED.
 */
static void ua_for_nexus_not_connected_is_queued_when_it_logs_in(void **state)
{
	struct prf *p = prf_of(state);

	preempt_b(p, false);
	relogin_b(p);
	tur_b(p);
	fix_assert_sense(&p->fix.task, 0x6, 0x2a, 0x05);
	tur_b(p);
	fix_assert_good(&p->fix.task);
}

/* Delivered once: a later login of the same nexus gets POWER ON only. */
static void kept_ua_is_not_delivered_twice(void **state)
{
	struct prf *p = prf_of(state);

	preempt_b(p, false);
	relogin_b(p);
	tur_b(p);
	fix_assert_sense(&p->fix.task, 0x6, 0x2a, 0x05);
	relogin_b(p);
	tur_b(p);
	fix_assert_good(&p->fix.task);
}

/* A joining member gets the UAs the sender keeps and those its connected
 * nexuses have not reported yet: B, preempted while connected, gets
 * REGISTRATIONS PREEMPTED from a member that installed the snapshot. */
static void snapshot_carries_unreported_ua_of_connected_nexus(void **state)
{
	struct prf *p = prf_of(state);
	uint8_t *snap;
	size_t len;

	preempt_b(p, true);
	assert_int_equal(scsi_pr_snapshot(&snap, &len), 0);
	/* The nexus goes away on this member; the snapshot brings its UA back. */
	scsi_itn_destroy(p->b);
	p->b = NULL;
	assert_int_equal(scsi_pr_snapshot_install(snap, len), 0);
	relogin_b(p);
	tur_b(p);
	fix_assert_sense(&p->fix.task, 0x6, 0x2a, 0x05);
	free(snap);
}

/* Byte 4 of a snapshot is its version; the UA section comes last. */
static void snapshot_with_bad_ua_section_installs_nothing(void **state)
{
	struct prf *p = prf_of(state);
	struct fix *f = &p->fix;
	uint8_t *snap;
	size_t len;

	preempt_b(p, false);
	assert_int_equal(scsi_pr_snapshot(&snap, &len), 0);
	pr_out(p, f->itn, PR_SA_CLEAR, 0, 0xa, 0, 0);
	fix_assert_good(&f->task);
	/* The last byte is the end of B's port name: make it a NUL. */
	snap[len - 1] = 0;
	assert_int_equal(scsi_pr_snapshot_install(snap, len), -EINVAL);
	snap[4] = 3;
	assert_int_equal(scsi_pr_snapshot_install(snap, len), -EINVAL);
	/* Still cleared: no registration installed. */
	pr_in(p, f->itn, PR_IN_READ_KEYS);
	assert_int_equal(get_be32(f->task.in_buf + 4), 0);
	free(snap);
}

/* A version 1 snapshot (an older member, during a rolling upgrade). */
static void snapshot_version_1_still_installs(void **state)
{
	struct prf *p = prf_of(state);
	struct fix *f = &p->fix;
	uint8_t *snap;
	size_t len, ualen;

	pr_out(p, f->itn, PR_SA_REGISTER, 0, 0, 0xa, 0);
	pr_out(p, f->itn, PR_SA_RESERVE, PR_TYPE_EA, 0xa, 0, 0);
	assert_int_equal(scsi_pr_snapshot(&snap, &len), 0);
	assert_int_equal(snap[4], 2);
	pr_out(p, f->itn, PR_SA_CLEAR, 0, 0xa, 0, 0);
	/* Drop the trailing UA section (an empty table: 8 bytes + its length). */
	ualen = 8;
	assert_int_equal(get_be32(snap + len - ualen - 4), ualen);
	snap[4] = 1;
	assert_int_equal(scsi_pr_snapshot_install(snap, len - ualen - 4), 0);
	write10(p, p->b);
	assert_int_equal(f->task.status, SCSI_STATUS_RESERVATION_CONFLICT);
	free(snap);
}

/* A committer that completes later, like ha/ does. */
static scsi_pr_done_fn later_done;
static void *later_arg;
static uint8_t later_msg[4096];
static size_t later_len;

static int later_submit(void *ctx, const uint8_t *msg, size_t len, scsi_pr_done_fn done, void *arg)
{
	later_done = done;
	later_arg = arg;
	memcpy(later_msg, msg, len);
	later_len = len;
	return 0;
}

static void task_completes_when_the_committer_reports_back(void **state)
{
	static const struct scsi_pr_committer later = {later_submit, NULL};
	struct prf *p = prf_of(state);
	struct fix *f = &p->fix;
	struct scsi_pr_result res;
	uint8_t cdb[10] = {0x5f, PR_SA_RESERVE, PR_TYPE_WE};

	scsi_pr_committer_set(&later);
	memset(p->param, 0, sizeof(p->param));
	put_be64(p->param, 0x55); /* not registered: conflict when applied */
	put_be32(cdb + 5, 24);
	scsi_task_release(&f->task);
	memset(&f->task, 0, sizeof(f->task));
	f->task.lu = f->lu;
	f->task.itn = f->itn;
	memcpy(f->task.cdb, cdb, sizeof(cdb));
	f->task.cdb_len = 10;
	f->task.out_buf = p->param;
	f->task.out_len = 24;
	f->task.dir = SCSI_DIR_WRITE;
	f->task.done = fix_done;
	f->done_calls = 0;
	scsi_task_exec(&f->task);
	assert_int_equal(f->done_calls, 0);
	assert_int_equal(scsi_pr_deliver(later_msg, later_len, &res), 0);
	later_done(later_arg, &res);
	assert_int_equal(f->done_calls, 1);
	assert_int_equal(f->task.status, SCSI_STATUS_RESERVATION_CONFLICT);
}

static int failing_submit(void *ctx, const uint8_t *msg, size_t len, scsi_pr_done_fn done,
			  void *arg)
{
	return -EAGAIN;
}

static void committer_refusing_the_command_gives_busy(void **state)
{
	static const struct scsi_pr_committer failing = {failing_submit, NULL};
	struct prf *p = prf_of(state);

	scsi_pr_committer_set(&failing);
	pr_out(p, p->fix.itn, PR_SA_REGISTER, 0, 0, 0xa, 0);
	assert_int_equal(p->fix.task.status, SCSI_STATUS_BUSY);
}

static void pr_out_out_of_memory_gives_busy_and_changes_nothing(void **state)
{
	struct prf *p = prf_of(state);
	struct fix *f = &p->fix;

	fix_calloc_fail_in = 1;
	pr_out(p, f->itn, PR_SA_REGISTER, 0, 0, 0xa, 0);
	fix_calloc_fail_in = 0;
	assert_int_equal(f->task.status, SCSI_STATUS_BUSY);
	pr_in(p, f->itn, PR_IN_READ_KEYS);
	assert_int_equal(get_be32(f->task.in_buf), 0);
}

static void show_lists_keys_holder_and_generation(void **state)
{
	struct prf *p = prf_of(state);
	struct fix *f = &p->fix;
	struct buf b = BUF_INIT;

	pr_out(p, f->itn, PR_SA_REGISTER, 0, 0, 0xa, 0);
	pr_out(p, f->itn, PR_SA_RESERVE, PR_TYPE_WERO, 0xa, 0, 0);
	scsi_lu_pr_show(f->lu, false, &b);
	buf_append(&b, "", 1);
	assert_non_null(strstr((char *)b.data, "generation: 1\n"));
	assert_non_null(strstr((char *)b.data,
			       "reservation: WERO (type 5) scope LU holder " FIX_INITIATOR));
	assert_non_null(
		strstr((char *)b.data, "key 0x000000000000000a " FIX_INITIATOR " rtpi 1 holder"));
	buf_release(&b);
	scsi_lu_pr_show(f->lu, true, &b);
	buf_append(&b, "", 1);
	assert_non_null(strstr((char *)b.data, "\"generation\":1,"));
	assert_non_null(strstr((char *)b.data, "\"type\":\"WERO\""));
	buf_release(&b);
}

#define T(f) cmocka_unit_test_setup_teardown(f, setup, teardown)

int main(void)
{
	const struct CMUnitTest tests[] = {
		T(register_then_read_keys_reports_key_and_generation),
		T(write_by_other_nexus_under_exclusive_access_conflicts),
		T(allowed_commands_pass_exclusive_access_of_other_nexus),
		T(start_stop_unit_class_depends_on_its_cdb),
		T(compare_and_write_conflicts_as_a_write_and_get_lba_status_as_a_read),
		T(reserve6_blocks_other_nexus_until_its_nexus_is_lost),
		T(lu_reset_releases_reserve6),
		T(reserve6_with_third_party_bit_is_invalid_field),
		T(preempt_queues_registrations_preempted_for_victim),
		T(preempt_and_abort_asks_transport_to_abort_victim),
		T(release_with_wrong_type_is_invalid_release_of_persistent_reservation),
		T(short_parameter_list_is_parameter_list_length_error),
		T(bad_transport_id_is_invalid_field_in_parameter_list),
		T(aptpl_state_is_written_and_loaded_with_a_new_lu),
		T(corrupt_state_file_fails_lu_creation),
		T(register_without_aptpl_removes_state_file),
		T(aptpl_without_state_dir_is_invalid_field_in_parameter_list),
		T(deliver_refuses_garbage_and_unknown_lu),
		T(snapshot_installs_the_same_state),
		T(snapshot_install_refuses_every_truncation),
		T(ua_for_nexus_not_connected_is_queued_when_it_logs_in),
		T(kept_ua_is_not_delivered_twice),
		T(snapshot_carries_unreported_ua_of_connected_nexus),
		T(snapshot_with_bad_ua_section_installs_nothing),
		T(snapshot_version_1_still_installs),
		T(task_completes_when_the_committer_reports_back),
		T(committer_refusing_the_command_gives_busy),
		T(pr_out_out_of_memory_gives_busy_and_changes_nothing),
		T(show_lists_keys_holder_and_generation),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
