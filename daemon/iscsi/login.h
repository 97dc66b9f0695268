/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The iSCSI login phase as pure code (RFC 7143 sections 6, 11.12, 11.13, 13):
 * stage transitions, text-key negotiation and CHAP. No sockets, no clocks,
 * no globals: the connection code feeds it decoded Login Request PDUs and
 * sends what it returns. Targets, allow lists and secrets come from the
 * outside world through struct iscsi_login_env.
 */
#ifndef HATGT_ISCSI_LOGIN_H
#define HATGT_ISCSI_LOGIN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "iscsi/param.h"

/* Login status classes and details (RFC 7143 section 11.13.5). */
#define ISCSI_LOGIN_STATUS_SUCCESS 0x00
#define ISCSI_LOGIN_STATUS_REDIRECT 0x01
#define ISCSI_LOGIN_STATUS_INITIATOR_ERR 0x02
#define ISCSI_LOGIN_STATUS_TARGET_ERR 0x03

#define ISCSI_LOGIN_DETAIL_INIT_ERR 0x00
#define ISCSI_LOGIN_DETAIL_AUTH_FAILED 0x01
#define ISCSI_LOGIN_DETAIL_FORBIDDEN 0x02
#define ISCSI_LOGIN_DETAIL_NOT_FOUND 0x03
#define ISCSI_LOGIN_DETAIL_TARGET_REMOVED 0x04
#define ISCSI_LOGIN_DETAIL_UNSUPPORTED_VERSION 0x05
#define ISCSI_LOGIN_DETAIL_TOO_MANY_CONNECTIONS 0x06
#define ISCSI_LOGIN_DETAIL_MISSING_PARAMETER 0x07
#define ISCSI_LOGIN_DETAIL_NO_SESSION_SPANNING 0x08
#define ISCSI_LOGIN_DETAIL_SESSION_TYPE_UNSUPPORTED 0x09
#define ISCSI_LOGIN_DETAIL_SESSION_DOES_NOT_EXIST 0x0a
#define ISCSI_LOGIN_DETAIL_INVALID_DURING_LOGIN 0x0b
#define ISCSI_LOGIN_DETAIL_TARGET_ERROR 0x00
#define ISCSI_LOGIN_DETAIL_SERVICE_UNAVAILABLE 0x01
#define ISCSI_LOGIN_DETAIL_OUT_OF_RESOURCES 0x02

/* Stages (CSG/NSG, RFC 7143 section 11.12.3). */
#define ISCSI_STAGE_SECURITY 0
#define ISCSI_STAGE_OPERATIONAL 1
#define ISCSI_STAGE_FULL_FEATURE 3

/* Bounds (RFC 7143 section 6.3: during login neither side may send a data
 * segment over 8192 bytes; longer text is split with the C bit). */
#define ISCSI_LOGIN_SEGMENT_MAX 8192
#define ISCSI_LOGIN_TEXT_MAX 65536 /* request text accumulated over C bits */
#define ISCSI_LOGIN_PDU_MAX 128	   /* Login Requests in one login */

/* CHAP credentials for one direction. Empty user: not configured. */
struct iscsi_chap_cred {
	char user[256];
	char secret[256];
};

/* What a target requires of an initiator at login. */
struct iscsi_auth_cfg {
	struct iscsi_chap_cred chap;   /* initiator authenticates to us (one-way) */
	struct iscsi_chap_cred mutual; /* we authenticate to the initiator */
	/* TargetAlias to declare in the first response (empty: none). Filled
	 * by target_lookup() like the credentials. */
	char target_alias[ISCSI_ALIAS_MAX];
};

/* Results of the target lookup callback. */
enum iscsi_lookup_result {
	ISCSI_LOOKUP_OK = 0,
	ISCSI_LOOKUP_NOT_FOUND,	 /* no such target: status 0x0203 */
	ISCSI_LOOKUP_FORBIDDEN,	 /* initiator not on the allow list: 0x0202 */
	ISCSI_LOOKUP_UNAVAILABLE /* e.g. not promoted: 0x0301 */
};

struct iscsi_login_env {
	/* Called once the initiator named a target (normal sessions). Fills
	 * *auth with what the target requires. */
	enum iscsi_lookup_result (*target_lookup)(void *ctx, const char *target_name,
						  const char *initiator_name,
						  struct iscsi_auth_cfg *auth);
	void *ctx;
	/* Required of discovery sessions (empty user: no CHAP). */
	struct iscsi_auth_cfg discovery_auth;
	/* Our declarations and offers; see iscsi_params_defaults(). */
	struct iscsi_params target_defaults;
	/* Fill buf with len random bytes (CHAP challenges). \return 0 or -errno. */
	int (*random_bytes)(void *ctx, uint8_t *buf, size_t len);
	/* Our TargetPortalGroupTag. */
	uint16_t tpgt;
};

/* One Login Request, decoded (RFC 7143 section 11.12). */
struct iscsi_login_req {
	bool transit; /* T bit */
	bool cont;    /* C bit: more text follows in the next PDU */
	uint8_t csg, nsg;
	uint8_t version_max, version_min;
	uint8_t isid[6];
	uint16_t tsih;
	uint16_t cid;
	uint32_t itt;
	uint32_t cmdsn;
	uint32_t expstatsn;
	const uint8_t *data; /* key=value\0 pairs */
	size_t data_len;
};

/* The Login Response to send. data stays valid until the next call or
 * iscsi_login_destroy(). */
struct iscsi_login_rsp {
	bool transit;
	bool cont;
	uint8_t csg, nsg;
	uint8_t status_class, status_detail;
	const uint8_t *data;
	size_t data_len;
	/* true: send this response, then the connection enters full feature
	 * phase with the parameters from iscsi_login_params(). */
	bool complete;
	/* true: send this response, then close the connection (failed login). */
	bool fail;
	/* A line for the log saying why the login failed (never a secret). */
	const char *reason;
};

struct iscsi_login;

/** Start the login of a new connection. \return NULL on ENOMEM. The env
 * must outlive the login. */
struct iscsi_login *iscsi_login_create(const struct iscsi_login_env *env);
/** Accepts NULL. Wipes secrets and challenge material. */
void iscsi_login_destroy(struct iscsi_login *login);

/** Process one Login Request and produce the response.
 * \return 0 (see rsp->fail for a failed login) or -ENOMEM. */
int iscsi_login_step(struct iscsi_login *login, const struct iscsi_login_req *req,
		     struct iscsi_login_rsp *rsp);

/** After rsp->complete: the negotiated parameters (session and connection),
 * including InitiatorName, TargetName, SessionType. */
const struct iscsi_params *iscsi_login_params(const struct iscsi_login *login);

#endif
