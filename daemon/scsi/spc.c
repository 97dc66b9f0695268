/* SPDX-License-Identifier: GPL-2.0-or-later */
/* SPC-4 primary commands: INQUIRY and its VPD pages, REQUEST SENSE,
 * REPORT LUNS, MODE SENSE, TEST UNIT READY. */
#include <stdio.h>
#include <string.h>

#include "scsi/scsi_int.h"
#include "util/be.h"

/* SPC-4 6.6.2: peripheral device type of a direct access block device. */
#define SPC_PDT_DISK 0x00
/* SPC-4 6.6.2: peripheral qualifier 011b, device type 1Fh: no LU here. */
#define SPC_PDT_NO_LU 0x7f
/* SPC-4 7.6.1 Table 360: PROTOCOL IDENTIFIER for iSCSI. */
#define SPC_PROTOCOL_ISCSI 0x5

enum sense_reason spc_cmd_test_unit_ready(struct scsi_cmd *cmd)
{
	/* SPC-4 6.47: the LU is always ready (there is no medium to load). */
	return SENSE_OK;
}

/* SPC-4 6.6.2 standard INQUIRY data. */
static void spc_inquiry_standard(const struct scsi_lu *lu, struct buf *b)
{
	/* SPC-4 6.6.2 Table 146: version descriptors SAM-5, iSCSI, SPC-4, SBC-3. */
	static const uint16_t versions[] = {0x00a0, 0x0960, 0x0460, 0x04c0};
	uint8_t d[66] = {0};
	size_t i;

	d[0] = lu ? SPC_PDT_DISK : SPC_PDT_NO_LU;
	/* RMB: removable medium; still a direct-access block device. */
	if (lu && lu->removable)
		d[1] = 0x80;
	d[2] = 0x06;	    /* VERSION: SPC-4 */
	d[3] = 0x10 | 0x02; /* HISUP, RESPONSE DATA FORMAT 2 */
	d[4] = sizeof(d) - 5;
	d[7] = 0x02; /* CMDQUE */
	if (lu) {
		memcpy(d + 8, lu->vendor, sizeof(lu->vendor));
		memcpy(d + 16, lu->product, sizeof(lu->product));
		memcpy(d + 32, lu->revision, sizeof(lu->revision));
	} else {
		memset(d + 8, ' ', 28);
	}
	for (i = 0; i < sizeof(versions) / sizeof(versions[0]); i++)
		put_be16(d + 58 + 2 * i, versions[i]);
	buf_append(b, d, sizeof(d));
}

static void spc_vpd_supported(const struct scsi_lu *lu, struct buf *b);

static void spc_vpd_serial(const struct scsi_lu *lu, struct buf *b)
{
	/* SPC-4 7.8.15: PRODUCT SERIAL NUMBER, ASCII. */
	buf_append(b, lu->serial, strlen(lu->serial));
}

/* SPC-4 7.8.6.1 Table 477: one designation descriptor header plus body. */
static void spc_designator_add(struct buf *b, uint8_t proto_codeset, uint8_t piv_assoc_type,
			       const void *body, uint8_t len)
{
	uint8_t h[4] = {proto_codeset, piv_assoc_type, 0, len};

	buf_append(b, h, sizeof(h));
	buf_append(b, body, len);
}

/* SPC-4 7.8.6.11: SCSI name string, NUL terminated, NUL padded to a multiple of 4. */
static void spc_designator_name_add(struct buf *b, uint8_t assoc, const char *name)
{
	uint8_t s[256] = {0};
	size_t len = strnlen(name, sizeof(s) - 4) + 1;

	memcpy(s, name, len - 1);
	len = (len + 3) & ~(size_t)3;
	/* PIV=1, protocol iSCSI, code set 3 (UTF-8), type 8 (SCSI name string). */
	spc_designator_add(b, SPC_PROTOCOL_ISCSI << 4 | 0x3, 0x80 | assoc << 4 | 0x8, s,
			   (uint8_t)len);
}

static void spc_vpd_device_id(const struct scsi_lu *lu, struct buf *b)
{
	uint8_t rtpi[4] = {0};
	char name[256];

	/* Association 00b (the LU), code set 1 (binary), type 3 (NAA). */
	spc_designator_add(b, 0x1, 0x03, lu->naa, lu->naa_len);
	/* SPC-4 7.8.6.7: relative target port: PIV=1, association 01b, type 4. */
	put_be16(rtpi + 2, lu->rtpi);
	spc_designator_add(b, SPC_PROTOCOL_ISCSI << 4 | 0x1, 0x80 | 0x10 | 0x4, rtpi, sizeof(rtpi));
	if (lu->target_name) {
		/* RFC 7143 (SCSI port names): the target port name is "<target>,t,0x<TPGT>". */
		snprintf(name, sizeof(name), "%s,t,0x%04x", lu->target_name, lu->tpgt);
		spc_designator_name_add(b, 0x1, name);
		/* Association 10b: the SCSI target device, named by the iSCSI name. */
		spc_designator_name_add(b, 0x2, lu->target_name);
	}
}

struct spc_vpd_page {
	uint8_t code;
	void (*build)(const struct scsi_lu *lu, struct buf *b);
};

/* Ascending page codes (SPC-4 7.8.16: the supported list is ascending). */
static const struct spc_vpd_page spc_vpd_pages[] = {
	{0x00, spc_vpd_supported},
	{0x80, spc_vpd_serial},
	{0x83, spc_vpd_device_id},
	{0xb0, sbc_vpd_block_limits},
	{0xb1, sbc_vpd_block_characteristics},
	{0xb2, sbc_vpd_provisioning},
};

#define SPC_VPD_PAGES (sizeof(spc_vpd_pages) / sizeof(spc_vpd_pages[0]))

static void spc_vpd_supported(const struct scsi_lu *lu, struct buf *b)
{
	size_t i;

	for (i = 0; i < SPC_VPD_PAGES; i++)
		buf_append(b, &spc_vpd_pages[i].code, 1);
}

static enum sense_reason spc_inquiry_vpd(struct scsi_cmd *cmd, struct buf *b)
{
	uint8_t page = cmd->task->cdb[2];
	uint8_t h[4] = {SPC_PDT_DISK, page, 0, 0};
	enum sense_reason r = SENSE_OK;
	size_t i;

	for (i = 0; i < SPC_VPD_PAGES && spc_vpd_pages[i].code != page; i++)
		;
	if (i == SPC_VPD_PAGES) {
		r = scsi_cmd_bad_field(cmd, 2, -1);
		goto out;
	}
	buf_append(b, h, sizeof(h));
	spc_vpd_pages[i].build(cmd->lu, b);
	/* SPC-4 7.8.1: PAGE LENGTH counts the bytes after the header. */
	if (!b->err)
		put_be16(b->data + 2, (uint16_t)(b->len - 4));
out:
	return r;
}

enum sense_reason spc_cmd_inquiry(struct scsi_cmd *cmd)
{
	const uint8_t *cdb = cmd->task->cdb;
	struct buf b = BUF_INIT;
	enum sense_reason r;

	/* SPC-4 6.6.1: CMDDT is obsolete; with EVPD=0 the PAGE CODE must be 0. */
	if (cdb[1] & 0x02) {
		r = scsi_cmd_bad_field(cmd, 1, 1);
		goto out;
	}
	if (!(cdb[1] & 0x01)) {
		if (cdb[2]) {
			r = scsi_cmd_bad_field(cmd, 2, -1);
			goto out;
		}
		spc_inquiry_standard(cmd->lu, &b);
	} else if (!cmd->lu) {
		r = SENSE_LUN_NOT_SUPPORTED;
		goto out;
	} else {
		r = spc_inquiry_vpd(cmd, &b);
		if (r != SENSE_OK)
			goto out;
	}
	r = scsi_cmd_data_in(cmd, &b, get_be16(cdb + 3));
out:
	buf_release(&b);
	return r;
}

enum sense_reason spc_cmd_request_sense(struct scsi_cmd *cmd)
{
	const uint8_t *cdb = cmd->task->cdb;
	enum sense_reason pending = SENSE_OK;
	struct scsi_ua_slot *slot;
	uint8_t s[SENSE_FIXED_LEN];
	enum sense_reason r;
	size_t n;

	/* SPC-4 6.39: no LU: report LOGICAL UNIT NOT SUPPORTED as sense data. */
	if (!cmd->lu) {
		pending = SENSE_LUN_NOT_SUPPORTED;
	} else if (cmd->task->itn) {
		/* SAM-5 5.14: REQUEST SENSE reports and clears a pending UA. */
		slot = scsi_ua_slot_get(cmd->lu, cmd->task->itn);
		if (!slot) {
			r = SENSE_BUSY;
			goto out;
		}
		pending = scsi_ua_slot_pop(slot);
	}
	n = sense_build(pending, NULL, cdb[1] & 0x01, s, sizeof(s));
	r = scsi_cmd_data_in_bytes(cmd, s, n, cdb[4]);
out:
	return r;
}

/* SAM-5 4.7: single level LUN, peripheral (< 256) or flat space addressing. */
static void spc_lun_encode(uint64_t lun, uint8_t *out)
{
	memset(out, 0, 8);
	if (lun < 256) {
		out[1] = (uint8_t)lun;
	} else if (lun < 16384) {
		out[0] = (uint8_t)(0x40 | lun >> 8);
		out[1] = (uint8_t)lun;
	} else {
		/* Already in SAM-5 format. */
		put_be64(out, lun);
	}
}

enum sense_reason spc_cmd_report_luns(struct scsi_cmd *cmd)
{
	const struct scsi_lun_list *list = cmd->task->lun_list;
	const uint8_t *cdb = cmd->task->cdb;
	uint32_t alloc = get_be32(cdb + 6);
	struct buf b = BUF_INIT;
	uint8_t h[8] = {0}, lun[8];
	size_t i, count = 0;
	enum sense_reason r;

	/* SPC-4 6.33: ALLOCATION LENGTH of at least 16 bytes. */
	if (alloc < 16) {
		r = scsi_cmd_bad_field(cmd, 6, -1);
		goto out;
	}
	switch (cdb[2]) {
	case 0x00: /* all LUs, no well-known ones */
	case 0x02: /* all LUs: we have no well-known LUs */
		count = list ? list->count : 0;
		break;
	case 0x01: /* well-known LUs only: none */
		break;
	default:
		r = scsi_cmd_bad_field(cmd, 2, -1);
		goto out;
	}
	put_be32(h, (uint32_t)(count * 8));
	buf_reserve(&b, sizeof(h) + count * 8);
	buf_append(&b, h, sizeof(h));
	for (i = 0; i < count; i++) {
		spc_lun_encode(list->luns[i], lun);
		buf_append(&b, lun, sizeof(lun));
	}
	r = scsi_cmd_data_in(cmd, &b, alloc);
out:
	buf_release(&b);
	return r;
}

/* SPC-4 7.5.11 Table 426: read-write error recovery (SBC-3 6.4.8): no knobs. */
static void spc_mode_page_rw_recovery(const struct scsi_lu *lu, bool changeable, struct buf *b)
{
	uint8_t p[12] = {0x01, 0x0a};

	buf_append(b, p, sizeof(p));
}

/* SPC-4 7.5.8 control mode page: D_SENSE and SWP are changeable. */
static void spc_mode_page_control(const struct scsi_lu *lu, bool changeable, struct buf *b)
{
	uint8_t p[12] = {0x0a, 0x0a};

	if (changeable) {
		p[2] = 0x04; /* D_SENSE */
		p[4] = 0x08; /* SWP */
	} else {
		if (lu->d_sense)
			p[2] = 0x04;
		p[3] = 0x10; /* QUEUE ALGORITHM MODIFIER 1: unrestricted reordering */
		if (lu->swp)
			p[4] = 0x08;	 /* SWP */
		put_be16(p + 8, 0xffff); /* BUSY TIMEOUT PERIOD: unlimited */
	}
	buf_append(b, p, sizeof(p));
}

struct spc_mode_page {
	uint8_t code;
	void (*build)(const struct scsi_lu *lu, bool changeable, struct buf *b);
};

/* Ascending page codes: 3Fh returns them in this order (SPC-4 6.11). */
static const struct spc_mode_page spc_mode_pages[] = {
	{0x01, spc_mode_page_rw_recovery},
	{0x08, sbc_mode_page_caching},
	{0x0a, spc_mode_page_control},
};

/* SBC-3 6.4.2: short (8 bytes) or long LBA (16 bytes) block descriptor. */
static void spc_mode_block_desc(const struct scsi_lu *lu, bool llba, struct buf *b)
{
	uint8_t d[16] = {0};

	if (llba) {
		put_be64(d, lu->nblocks);
		put_be32(d + 12, lu->block_size);
		buf_append(b, d, 16);
	} else {
		put_be32(d, lu->nblocks > 0xffffffffu ? 0xffffffffu : (uint32_t)lu->nblocks);
		put_be24(d + 5, lu->block_size);
		buf_append(b, d, 8);
	}
}

enum sense_reason spc_cmd_mode_sense(struct scsi_cmd *cmd)
{
	const uint8_t *cdb = cmd->task->cdb;
	bool ten = cdb[0] == 0x5a;
	bool dbd = cdb[1] & 0x08, llba = ten && (cdb[1] & 0x10);
	uint8_t pc = cdb[2] >> 6, page = cdb[2] & 0x3f;
	uint8_t h[8] = {0};
	size_t hlen = ten ? 8 : 4, i, found = 0, blen = 0;
	struct buf b = BUF_INIT;
	enum sense_reason r;

	/* SPC-4 6.11 Table 167: saved values are not supported. */
	if (pc == 3) {
		r = SENSE_SAVING_PARAMS_NOT_SUPPORTED;
		goto out;
	}
	/* No subpages; 3Fh/FFh means all pages and subpages. */
	if (cdb[3] && !(page == 0x3f && cdb[3] == 0xff)) {
		r = scsi_cmd_bad_field(cmd, 3, -1);
		goto out;
	}
	buf_append(&b, h, hlen);
	if (!dbd) {
		spc_mode_block_desc(cmd->lu, llba, &b);
		blen = b.len - hlen;
	}
	for (i = 0; i < sizeof(spc_mode_pages) / sizeof(spc_mode_pages[0]); i++) {
		if (page != 0x3f && page != spc_mode_pages[i].code)
			continue;
		spc_mode_pages[i].build(cmd->lu, pc == 1, &b);
		found++;
	}
	if (!found) {
		r = scsi_cmd_bad_field(cmd, 2, 5);
		goto out;
	}
	if (b.err) {
		r = SENSE_BUSY;
		goto out;
	}
	/* SBC-3 6.3.1: WP for write-protected LUs, DPOFUA: we honour DPO and FUA. */
	if (ten) {
		put_be16(b.data, (uint16_t)(b.len - 2));
		b.data[3] = (uint8_t)((scsi_lu_write_protected(cmd->lu) ? 0x80 : 0) | 0x10);
		b.data[4] = llba ? 0x01 : 0; /* LONGLBA */
		put_be16(b.data + 6, (uint16_t)blen);
	} else {
		b.data[0] = (uint8_t)(b.len - 1);
		b.data[2] = (uint8_t)((scsi_lu_write_protected(cmd->lu) ? 0x80 : 0) | 0x10);
		b.data[3] = (uint8_t)blen;
	}
	r = scsi_cmd_data_in(cmd, &b, ten ? get_be16(cdb + 7) : cdb[4]);
out:
	buf_release(&b);
	return r;
}

/*
 * One page of a MODE SELECT parameter list: the page must be one we have,
 * with our length, and differ from the current values only in changeable
 * bits (SPC-4 6.9: else INVALID FIELD IN PARAMETER LIST). \p off is the
 * page's offset in the parameter list, for the field pointer.
 */
static enum sense_reason spc_mode_select_page(struct scsi_cmd *cmd, const uint8_t *pg, size_t len,
					      size_t off, bool *changed)
{
	struct buf cur = BUF_INIT, mask = BUF_INIT;
	struct scsi_lu *lu = cmd->lu;
	enum sense_reason r = SENSE_INVALID_FIELD_IN_PARAM;
	size_t i, n;

	cmd->field = (struct sense_field){.valid = true, .byte = (uint16_t)off, .bit = -1};
	/* SPF (subpage format) pages: we have none. */
	if (len < 2 || (pg[0] & 0x40))
		goto out;
	for (i = 0; i < sizeof(spc_mode_pages) / sizeof(spc_mode_pages[0]); i++)
		if (spc_mode_pages[i].code == (pg[0] & 0x3f))
			break;
	if (i == sizeof(spc_mode_pages) / sizeof(spc_mode_pages[0]))
		goto out;
	spc_mode_pages[i].build(lu, false, &cur);
	spc_mode_pages[i].build(lu, true, &mask);
	if (cur.err || mask.err) {
		r = SENSE_BUSY;
		goto out;
	}
	n = cur.len;
	if (len != n || pg[1] != cur.data[1]) {
		cmd->field.byte = (uint16_t)(off + 1);
		goto out;
	}
	for (i = 2; i < n; i++) {
		if ((pg[i] ^ cur.data[i]) & ~mask.data[i]) {
			cmd->field.byte = (uint16_t)(off + i);
			goto out;
		}
	}
	if (memcmp(pg + 2, cur.data + 2, n - 2))
		*changed = true;
	switch (pg[0] & 0x3f) {
	case 0x08:
		lu->wce = pg[2] & 0x04;
		break;
	case 0x0a:
		lu->d_sense = pg[2] & 0x04;
		lu->swp = pg[4] & 0x08;
		break;
	}
	cmd->field.valid = false;
	r = SENSE_OK;
out:
	buf_release(&cur);
	buf_release(&mask);
	return r;
}

/*
 * SPC-4 6.9 / 6.10 MODE SELECT(6/10): set the changeable values of the
 * caching and control pages. Saved pages (SP) are not supported. Other
 * I_T nexuses get MODE PARAMETERS CHANGED (SPC-4 7.5.1).
 */
enum sense_reason spc_cmd_mode_select(struct scsi_cmd *cmd)
{
	struct scsi_task *task = cmd->task;
	const uint8_t *cdb = task->cdb, *p = task->out_buf;
	bool ten = cdb[0] == 0x55, changed = false;
	uint32_t plen = ten ? get_be16(cdb + 7) : cdb[4];
	size_t hlen = ten ? 8 : 4, off, bdlen, pl;
	enum sense_reason r = SENSE_OK;

	task->xfer_len = plen;
	if (cdb[1] & 0x01) {
		r = scsi_cmd_bad_field(cmd, 1, 0);
		goto out;
	}
	if (plen == 0)
		goto out;
	/* Only the SPC page format (PF 1) is known. */
	if (!(cdb[1] & 0x10)) {
		r = scsi_cmd_bad_field(cmd, 1, 4);
		goto out;
	}
	if (plen < hlen || task->out_len < plen || !p) {
		r = SENSE_PARAM_LIST_LENGTH_ERROR;
		goto out;
	}
	bdlen = ten ? get_be16(p + 6) : p[3];
	off = hlen + bdlen;
	if (off > plen) {
		r = SENSE_PARAM_LIST_LENGTH_ERROR;
		goto out;
	}
	/* Block descriptors are accepted and ignored: the geometry is fixed. */
	while (off < plen) {
		pl = off + 1 < plen ? (size_t)p[off + 1] + 2 : plen - off;
		if (off + pl > plen) {
			r = SENSE_PARAM_LIST_LENGTH_ERROR;
			goto out;
		}
		r = spc_mode_select_page(cmd, p + off, pl, off, &changed);
		if (r != SENSE_OK)
			goto out;
		off += pl;
	}
	if (changed && task->itn)
		scsi_ua_establish_others(cmd->lu, task->itn, SENSE_UA_MODE_PARAMS_CHANGED);
out:
	return r;
}
