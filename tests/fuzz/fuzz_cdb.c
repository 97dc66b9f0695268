/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * SCSI command dispatch (SPC-4, SBC-3): scsi_task_exec() with an arbitrary
 * CDB and parameter data on a small LU, draining completions as the
 * daemon's loop does. Every command must complete exactly once, within a
 * bounded time, with a response no longer than the EDTL.
 *
 *   initiator "iqn.2026-11.org.example:fuzz,i,0x00023d000001" (a new I_T
 *        |     nexus per input, so reservations and unit attentions of one
 *        |     input do not leak into the next)
 *   target "iqn.2026-11.org.example:disk1", LUN 0
 *   LU: sparse 1 MiB file in a temp dir made once, 512-byte blocks
 *
 * Input:
 *   byte 0     bits 1-0: 0 no data, 1 read, 2 write, 3 write;
 *              bit 2: 32-byte CDB (else 16); bit 3: no LU at this LUN
 *   bytes 1-4  EDTL for reads, big-endian (cut to FUZZ_CDB_EDTL_MAX)
 *   CDB        16 or 32 bytes
 *   the rest   parameter data (writes: all of it, and EDTL = its length,
 *              as the transport collects all Data-Out before exec)
 */
#include <errno.h>
#include <poll.h>
#include <string.h>
#include <unistd.h>

#include "fuzz_common.h"
#include "scsi/scsi.h"

#define FUZZ_CDB_BLOCKS 2048
#define FUZZ_CDB_EDTL_MAX (1024u * 1024 + 4096)
#define FUZZ_CDB_TIMEOUT_MS 10000

static struct {
	char dir[64];
	char path[96];
	struct scsi_lu *lu;
	uint64_t luns[1];
	struct scsi_lun_list lun_list;
	int done_calls;
} fuzz_cdb;

static void fuzz_cdb_cleanup(void)
{
	scsi_lu_put(fuzz_cdb.lu);
	scsi_fini();
	unlink(fuzz_cdb.path);
	rmdir(fuzz_cdb.dir);
}

static void fuzz_cdb_setup(void)
{
	static const uint8_t naa[8] = {0x60, 0x01, 0x40, 0x50, 0x12, 0x34, 0x56, 0x78};
	struct scsi_lu_config cfg = {0};
	const char *tmp = getenv("TMPDIR");

	snprintf(fuzz_cdb.dir, sizeof(fuzz_cdb.dir), "%s/hatgt-fuzz-cdb.XXXXXX",
		 tmp ? tmp : "/tmp");
	FUZZ_CHECK(mkdtemp(fuzz_cdb.dir) != NULL);
	snprintf(fuzz_cdb.path, sizeof(fuzz_cdb.path), "%s/lun0.img", fuzz_cdb.dir);
	cfg.path = fuzz_cdb.path;
	cfg.create_size = FUZZ_CDB_BLOCKS * 512;
	snprintf(cfg.vendor, sizeof(cfg.vendor), "HATGT");
	snprintf(cfg.product, sizeof(cfg.product), "fuzz");
	snprintf(cfg.revision, sizeof(cfg.revision), "0001");
	snprintf(cfg.serial, sizeof(cfg.serial), "fuzz0001");
	memcpy(cfg.naa, naa, sizeof(naa));
	cfg.naa_len = sizeof(naa);
	cfg.target_name = "iqn.2026-11.org.example:disk1";
	cfg.rtpi = 1;
	cfg.tpgt = 1;
	FUZZ_CHECK(scsi_init() == 0);
	FUZZ_CHECK(scsi_lu_create(&cfg, &fuzz_cdb.lu) == 0);
	fuzz_cdb.lun_list.luns = fuzz_cdb.luns;
	fuzz_cdb.lun_list.count = 1;
	atexit(fuzz_cdb_cleanup);
}

static void fuzz_cdb_done(struct scsi_task *task)
{
	fuzz_cdb.done_calls++;
}

/* Run completions until the task is done, within FUZZ_CDB_TIMEOUT_MS; a
 * second done() is a bug. */
static void fuzz_cdb_drain(void)
{
	struct pollfd pfd = {.fd = scsi_completion_fd(), .events = POLLIN};
	int waited = 0;

	while (fuzz_cdb.done_calls == 0) {
		fuzz_wait_readable(pfd.fd, &waited, FUZZ_CDB_TIMEOUT_MS);
		scsi_completion_run();
	}
	if (poll(&pfd, 1, 0) == 1)
		scsi_completion_run();
	FUZZ_CHECK(fuzz_cdb.done_calls == 1);
}

static void fuzz_cdb_clear_ua(struct scsi_itn *itn)
{
	struct scsi_task tur = {0};

	tur.lu = fuzz_cdb.lu;
	tur.itn = itn;
	tur.lun_list = &fuzz_cdb.lun_list;
	tur.cdb_len = 16;
	tur.done = fuzz_cdb_done;
	fuzz_cdb.done_calls = 0;
	scsi_task_exec(&tur);
	fuzz_cdb_drain();
	scsi_task_release(&tur);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct fuzz_in in = {data, size};
	struct scsi_itn_id id = {.rtpi = 1};
	struct scsi_task task = {0};
	volatile uint8_t sink = 0;
	uint8_t mode, *param = NULL;
	const uint8_t *p;
	size_t got;
	uint32_t i;

	if (!fuzz_cdb.lu)
		fuzz_cdb_setup();
	mode = fuzz_u8(&in);
	task.edtl = fuzz_u32(&in);
	if (task.edtl > FUZZ_CDB_EDTL_MAX)
		task.edtl = FUZZ_CDB_EDTL_MAX;
	task.cdb_len = (mode & 4) ? SCSI_CDB_MAX : 16;
	p = fuzz_take(&in, task.cdb_len, &got);
	memcpy(task.cdb, p, got);
	switch (mode & 3) {
	case 0:
		task.dir = SCSI_DIR_NONE;
		task.edtl = 0;
		break;
	case 1:
		task.dir = SCSI_DIR_READ;
		break;
	default:
		task.dir = SCSI_DIR_WRITE;
		task.edtl = (uint32_t)(in.n < FUZZ_CDB_EDTL_MAX ? in.n : FUZZ_CDB_EDTL_MAX);
		/* An exact-size copy, so ASan sees reads past the data. */
		param = malloc(task.edtl ? task.edtl : 1);
		if (!param)
			return 0;
		memcpy(param, in.p, task.edtl);
		task.out_buf = param;
		task.out_len = task.edtl;
		break;
	}
	snprintf(id.initiator_port, sizeof(id.initiator_port),
		 "iqn.2026-11.org.example:fuzz,i,0x00023d000001");
	task.itn = scsi_itn_create(&id);
	if (!task.itn) {
		free(param);
		return 0;
	}
	/* A new nexus starts with a unit attention (SAM-5 5.14) that would
	 * answer every command but a few; a TEST UNIT READY consumes it. */
	fuzz_cdb_clear_ua(task.itn);
	task.lu = (mode & 8) ? NULL : fuzz_cdb.lu;
	task.lun = 0;
	task.lun_list = &fuzz_cdb.lun_list;
	task.done = fuzz_cdb_done;
	fuzz_cdb.done_calls = 0;
	scsi_task_exec(&task);
	fuzz_cdb_drain();

	FUZZ_CHECK(task.in_len <= task.edtl);
	FUZZ_CHECK(task.sense_len <= SCSI_SENSE_MAX);
	FUZZ_CHECK(task.in_len == 0 || task.in_buf != NULL);
	if (task.status == SCSI_STATUS_CHECK_CONDITION)
		FUZZ_CHECK(task.sense_len > 0);
	for (i = 0; i < task.in_len; i++)
		sink ^= task.in_buf[i];
	(void)sink;
	scsi_task_release(&task);
	scsi_itn_destroy(task.itn);
	free(param);
	return 0;
}
