/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <errno.h>
#include <stdio.h>

#include <isa-l/crc.h>

#include "iscsi/conn.h"
#include "iscsi/pdu.h"

uint32_t iscsi_crc32c(uint32_t crc, const void *buf, size_t len)
{
	const uint8_t *p = buf;

	/* ISA-L takes an int length: feed large buffers in pieces. */
	while (len > 0) {
		int n = len > (1u << 30) ? (1 << 30) : (int)len;

		crc = crc32_iscsi((unsigned char *)p, n, crc);
		p += n;
		len -= (size_t)n;
	}
	return crc;
}

void iscsi_digest_put(uint8_t *p, uint32_t digest)
{
	/* The digest goes on the wire least significant byte first (RFC 7143
	 * appendix A.4 test vectors). */
	p[0] = (uint8_t)digest;
	p[1] = (uint8_t)(digest >> 8);
	p[2] = (uint8_t)(digest >> 16);
	p[3] = (uint8_t)(digest >> 24);
}

uint32_t iscsi_digest_get(const uint8_t *p)
{
	return (uint32_t)p[0] | ((uint32_t)p[1] << 8) | ((uint32_t)p[2] << 16) |
	       ((uint32_t)p[3] << 24);
}

uint32_t iscsi_digest_data(const uint8_t *data, uint32_t len)
{
	static const uint8_t zeros[4];
	uint32_t crc = iscsi_crc32c(ISCSI_CRC32C_SEED, data, len);

	crc = iscsi_crc32c(crc, zeros, iscsi_pad_len(len));
	return iscsi_crc32c_final(crc);
}

int iscsi_bhs_check(const uint8_t *bhs, uint32_t max_recv_dsl)
{
	uint8_t op = iscsi_bhs_opcode(bhs);
	uint32_t dslen = iscsi_bhs_dslen(bhs);

	switch (op) {
	case ISCSI_OP_NOP_OUT:
	case ISCSI_OP_SCSI_CMD:
	case ISCSI_OP_TMF_REQ:
	case ISCSI_OP_LOGIN_REQ:
	case ISCSI_OP_TEXT_REQ:
	case ISCSI_OP_DATA_OUT:
	case ISCSI_OP_LOGOUT_REQ:
	case ISCSI_OP_SNACK:
		break;
	default:
		/* A target opcode or an unknown one: the length fields may
		 * still be trusted, so reject rather than drop (11.17.1). */
		return ISCSI_REJECT_PROTOCOL_ERROR;
	}
	/*
	 * A data segment longer than we declared cannot be absorbed into a
	 * bounded buffer, and silently skipping it would hide a broken peer:
	 * 7.3 lets us treat this as a protocol error and close.
	 */
	if (dslen > max_recv_dsl)
		return -EPROTO;
	/* TMF and Logout carry no data; Data-Out must carry some (11.7.7 allows
	 * zero? no: a Data-Out always has payload in practice; tolerate 0). */
	if ((op == ISCSI_OP_TMF_REQ || op == ISCSI_OP_LOGOUT_REQ) && dslen != 0)
		return ISCSI_REJECT_PROTOCOL_ERROR;
	return 0;
}

const char *iscsi_opcode_name(uint8_t opcode)
{
	switch (opcode) {
	case ISCSI_OP_NOP_OUT:
		return "NOP-Out";
	case ISCSI_OP_SCSI_CMD:
		return "SCSI Command";
	case ISCSI_OP_TMF_REQ:
		return "Task Management Request";
	case ISCSI_OP_LOGIN_REQ:
		return "Login Request";
	case ISCSI_OP_TEXT_REQ:
		return "Text Request";
	case ISCSI_OP_DATA_OUT:
		return "Data-Out";
	case ISCSI_OP_LOGOUT_REQ:
		return "Logout Request";
	case ISCSI_OP_SNACK:
		return "SNACK Request";
	case ISCSI_OP_NOP_IN:
		return "NOP-In";
	case ISCSI_OP_SCSI_RSP:
		return "SCSI Response";
	case ISCSI_OP_TMF_RSP:
		return "Task Management Response";
	case ISCSI_OP_LOGIN_RSP:
		return "Login Response";
	case ISCSI_OP_TEXT_RSP:
		return "Text Response";
	case ISCSI_OP_DATA_IN:
		return "Data-In";
	case ISCSI_OP_LOGOUT_RSP:
		return "Logout Response";
	case ISCSI_OP_R2T:
		return "R2T";
	case ISCSI_OP_ASYNC:
		return "Async Message";
	case ISCSI_OP_REJECT:
		return "Reject";
	default:
		return "unknown opcode";
	}
}

const uint8_t *iscsi_ahs_find(const uint8_t *ahs, uint32_t len, uint8_t type, uint32_t *plen)
{
	uint32_t off = 0;

	*plen = 0;
	/* Each AHS (11.2.2): AHSLength (2 bytes), AHSType, then AHSLength bytes
	 * of AHS-specific data whose first byte is reserved for the types we
	 * know; the whole is padded to a multiple of 4. */
	while (off < len) {
		uint32_t alen, total;

		if (len - off < 4)
			goto malformed;
		alen = get_be16(ahs + off);
		total = 3 + alen + iscsi_pad_len(3 + alen);
		if (total > len - off)
			goto malformed;
		if (ahs[off + 2] == type) {
			*plen = alen ? alen - 1 : 0;
			return ahs + off + 4;
		}
		off += total;
	}
	return NULL;
malformed:
	*plen = UINT32_MAX;
	return NULL;
}

void iscsi_isid_str(const uint8_t *isid, char *buf, size_t len)
{
	snprintf(buf, len, "%02x%02x%02x%02x%02x%02x", isid[0], isid[1], isid[2], isid[3], isid[4],
		 isid[5]);
}

/* ---- transmit queue ----------------------------------------------------- */

/* iovecs per sendmsg: several queued PDUs go out in one call. */
#define ISCSI_TXQ_IOV 64

bool iscsi_datain_direct_ok(const struct iscsi_params *params)
{
	return !params->data_digest;
}

/* Gather the unsent pieces from the head on, over several PDUs.
 * \return the iovecs filled. */
static int iscsi_txq_gather(struct list_head *txq, struct iovec *iov)
{
	struct iscsi_txpdu *tx;
	int cnt = 0;

	list_for_each_entry(tx, txq, node) {
		size_t skip = tx->sent;
		int i;

		if (cnt + tx->iovcnt > ISCSI_TXQ_IOV)
			break;
		for (i = 0; i < tx->iovcnt; i++) {
			if (skip >= tx->iov[i].iov_len) {
				skip -= tx->iov[i].iov_len;
				continue;
			}
			iov[cnt].iov_base = (uint8_t *)tx->iov[i].iov_base + skip;
			iov[cnt].iov_len = tx->iov[i].iov_len - skip;
			skip = 0;
			cnt++;
		}
	}
	return cnt;
}

/* \p n bytes went out: advance the PDUs, handing back those sent in full. */
static void iscsi_txq_advance(struct list_head *txq, size_t n, const struct iscsi_tx_ops *ops)
{
	struct iscsi_txpdu *tx, *tmp;

	list_for_each_entry_safe(tx, tmp, txq, node) {
		size_t left = tx->total - tx->sent;

		if (n < left) {
			tx->sent += n;
			break;
		}
		n -= left;
		list_del(&tx->node);
		ops->sent(ops->ctx, tx);
		if (n == 0)
			break;
	}
}

int iscsi_txq_send(struct list_head *txq, const struct iscsi_tx_ops *ops)
{
	struct iovec iov[ISCSI_TXQ_IOV];
	ssize_t n;
	int rc = 0;

	while (!list_empty(txq)) {
		n = ops->send_iov(ops->ctx, iov, iscsi_txq_gather(txq, iov));
		if (n == -EINTR)
			continue;
		if (n < 0) {
			rc = (int)n;
			goto out;
		}
		iscsi_txq_advance(txq, (size_t)n, ops);
	}
out:
	return rc;
}

/* ---- polling ------------------------------------------------------------ */

int iscsi_poll_spin(struct pollfd *pfd, unsigned int n, uint64_t end, uint64_t (*now)(void))
{
	int ready;

	do {
		ready = poll(pfd, n, 0);
		if (ready < 0 && errno != EINTR)
			return -errno;
	} while (ready <= 0 && now() < end);
	return ready < 0 ? 0 : ready;
}
