/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The login stage machine (RFC 7143 sections 6.3, 11.12, 11.13):
 *
 *   SecurityNegotiation (0) --T--> LoginOperationalNegotiation (1) --T--> FFP (3)
 *            \__________________________T__________________________/
 *
 * The initiator proposes a transition with T=1 and NSG; we agree by echoing
 * T=1, or hold it back (T=0) while authentication is unfinished. Stages only
 * move forward. Text split over several PDUs with the C bit is gathered
 * before it is negotiated; a response over 8192 bytes goes out in pieces,
 * each asked for by an empty Login Request.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>

#include "iscsi/chap.h"
#include "iscsi/login.h"

enum login_state {
	LOGIN_FIRST,  /* no request seen yet */
	LOGIN_ACTIVE, /* names known, target looked up */
	LOGIN_DONE,   /* final response handed out */
	LOGIN_FAILED,
};

struct iscsi_login {
	const struct iscsi_login_env *env;
	enum login_state state;
	int stage; /* the CSG the next request must carry */
	struct iscsi_neg neg;
	struct iscsi_auth_cfg auth;
	bool auth_required;
	bool auth_method_done; /* AuthMethod agreed */
	struct iscsi_chap *chap;
	/* Constant over the login (11.12). */
	uint8_t isid[6];
	uint16_t tsih, cid;
	unsigned int n_pdus;
	/* Request text gathered over C bits. */
	struct buf in;
	/* Response text and how much of it has gone out. */
	struct buf out;
	size_t out_off;
	/* The decision taken for the response being sent. */
	bool out_transit;
	uint8_t out_nsg;
	uint8_t fail_class, fail_detail;
	char reason[384];
};

struct iscsi_login *iscsi_login_create(const struct iscsi_login_env *env)
{
	struct iscsi_login *login = calloc(1, sizeof(*login));

	if (login) {
		login->env = env;
		iscsi_neg_init(&login->neg, &env->target_defaults);
	}
	return login;
}

void iscsi_login_destroy(struct iscsi_login *login)
{
	if (!login)
		return;
	iscsi_chap_destroy(login->chap);
	iscsi_neg_release(&login->neg);
	/* The request text may hold CHAP material. */
	if (login->in.data)
		OPENSSL_cleanse(login->in.data, login->in.cap);
	buf_release(&login->in);
	buf_release(&login->out);
	OPENSSL_cleanse(&login->auth, sizeof(login->auth));
	free(login);
}

const struct iscsi_params *iscsi_login_params(const struct iscsi_login *login)
{
	return &login->neg.p;
}

static const char *login_who(const struct iscsi_login *login)
{
	return login->neg.p.initiator_name[0] ? login->neg.p.initiator_name : "(unnamed initiator)";
}

static void login_fail(struct iscsi_login *login, struct iscsi_login_rsp *rsp, uint8_t cls,
		       uint8_t detail, const char *fmt, ...) __attribute__((format(printf, 5, 6)));

/* Fail the login: the response carries the status and no text. */
static void login_fail(struct iscsi_login *login, struct iscsi_login_rsp *rsp, uint8_t cls,
		       uint8_t detail, const char *fmt, ...)
{
	va_list ap;
	char *c;

	va_start(ap, fmt);
	vsnprintf(login->reason, sizeof(login->reason), fmt, ap);
	va_end(ap);
	/* Names come off the wire: keep the log line one printable line. */
	for (c = login->reason; *c; c++) {
		if ((unsigned char)*c < 0x20 || (unsigned char)*c == 0x7f)
			*c = '?';
	}
	login->state = LOGIN_FAILED;
	login->fail_class = cls;
	login->fail_detail = detail;
	memset(rsp, 0, sizeof(*rsp));
	rsp->csg = (uint8_t)login->stage;
	rsp->status_class = cls;
	rsp->status_detail = detail;
	rsp->fail = true;
	rsp->reason = login->reason;
}

#define INIT_ERR ISCSI_LOGIN_STATUS_INITIATOR_ERR
#define TGT_ERR ISCSI_LOGIN_STATUS_TARGET_ERR

/* Header rules of 11.12 and 6.3; false when the login failed. */
static bool login_header_check(struct iscsi_login *login, const struct iscsi_login_req *req,
			       struct iscsi_login_rsp *rsp)
{
	if (login->state == LOGIN_FIRST) {
		/* 11.12.4: we speak version 0x00 only */
		if (req->version_min > 0) {
			login_fail(login, rsp, INIT_ERR, ISCSI_LOGIN_DETAIL_UNSUPPORTED_VERSION,
				   "unsupported iSCSI version %u-%u", req->version_min,
				   req->version_max);
			return false;
		}
		/* 11.12.5: no session accepts another connection (MaxConnections=1) */
		if (req->tsih != 0) {
			login_fail(login, rsp, INIT_ERR, ISCSI_LOGIN_DETAIL_SESSION_DOES_NOT_EXIST,
				   "TSIH %u names no session", req->tsih);
			return false;
		}
		if (req->csg != ISCSI_STAGE_SECURITY && req->csg != ISCSI_STAGE_OPERATIONAL) {
			login_fail(login, rsp, INIT_ERR, ISCSI_LOGIN_DETAIL_INIT_ERR,
				   "invalid CSG %u", req->csg);
			return false;
		}
		memcpy(login->isid, req->isid, sizeof(login->isid));
		login->tsih = req->tsih;
		login->cid = req->cid;
		login->stage = req->csg;
	} else if (memcmp(login->isid, req->isid, sizeof(login->isid)) != 0 ||
		   login->tsih != req->tsih || login->cid != req->cid) {
		login_fail(login, rsp, INIT_ERR, ISCSI_LOGIN_DETAIL_INIT_ERR,
			   "initiator %s changed ISID, TSIH or CID during login", login_who(login));
		return false;
	}
	/* 11.12.2: C=1 requires T=0 */
	if (req->transit && req->cont) {
		login_fail(login, rsp, INIT_ERR, ISCSI_LOGIN_DETAIL_INIT_ERR,
			   "initiator %s set both T and C", login_who(login));
		return false;
	}
	if (req->csg != login->stage) {
		/* Skipping the security stage that the target requires is an
		 * authentication failure; any other jump is a protocol error. */
		if (login->stage == ISCSI_STAGE_SECURITY && req->csg > login->stage &&
		    login->auth_required)
			login_fail(login, rsp, INIT_ERR, ISCSI_LOGIN_DETAIL_AUTH_FAILED,
				   "initiator %s left security negotiation unauthenticated",
				   login_who(login));
		else
			login_fail(login, rsp, INIT_ERR, ISCSI_LOGIN_DETAIL_INIT_ERR,
				   "initiator %s sent CSG %u in stage %d", login_who(login),
				   req->csg, login->stage);
		return false;
	}
	/* 6.3, 11.12.3: stages only go forward; stage 2 does not exist */
	if (req->transit && (req->nsg <= req->csg || req->nsg == 2)) {
		login_fail(login, rsp, INIT_ERR, ISCSI_LOGIN_DETAIL_INIT_ERR,
			   "initiator %s asked for transition %u->%u", login_who(login), req->csg,
			   req->nsg);
		return false;
	}
	return true;
}

/* Hand out the next piece of login->out (6.3: pieces of at most 8192). */
static void login_rsp_emit(struct iscsi_login *login, struct iscsi_login_rsp *rsp)
{
	size_t left = login->out.len - login->out_off;
	size_t n = left > ISCSI_LOGIN_SEGMENT_MAX ? ISCSI_LOGIN_SEGMENT_MAX : left;

	memset(rsp, 0, sizeof(*rsp));
	rsp->csg = (uint8_t)login->stage;
	rsp->data = n ? login->out.data + login->out_off : NULL;
	rsp->data_len = n;
	login->out_off += n;
	if (login->out_off < login->out.len) {
		rsp->cont = true;
		return;
	}
	/* The last piece carries the decision. */
	login->out.len = 0;
	login->out_off = 0;
	if (!login->out_transit)
		return;
	rsp->transit = true;
	rsp->nsg = login->out_nsg;
	login->stage = login->out_nsg;
	if (login->out_nsg == ISCSI_STAGE_FULL_FEATURE) {
		rsp->complete = true;
		login->state = LOGIN_DONE;
	}
}

/* The first request: names, target lookup, what authentication it takes. */
static int login_first(struct iscsi_login *login, struct iscsi_login_rsp *rsp)
{
	const struct iscsi_login_env *env = login->env;
	const struct iscsi_params *p = &login->neg.p;
	enum iscsi_lookup_result res = ISCSI_LOOKUP_NOT_FOUND;
	char num[8];
	int rc = 0;

	/* 13.5, 13.4: InitiatorName always, TargetName for normal sessions */
	if (!p->initiator_name[0]) {
		login_fail(login, rsp, INIT_ERR, ISCSI_LOGIN_DETAIL_MISSING_PARAMETER,
			   "login without InitiatorName");
		goto out;
	}
	if (p->session_type == ISCSI_SESSION_DISCOVERY) {
		login->auth = env->discovery_auth;
	} else {
		if (!p->target_name[0]) {
			login_fail(login, rsp, INIT_ERR, ISCSI_LOGIN_DETAIL_MISSING_PARAMETER,
				   "initiator %s: normal session without TargetName",
				   login_who(login));
			goto out;
		}
		if (env->target_lookup)
			res = env->target_lookup(env->ctx, p->target_name, p->initiator_name,
						 &login->auth);
		switch (res) {
		case ISCSI_LOOKUP_OK:
			break;
		case ISCSI_LOOKUP_FORBIDDEN:
			login_fail(login, rsp, INIT_ERR, ISCSI_LOGIN_DETAIL_FORBIDDEN,
				   "initiator %s may not log in to %s", login_who(login),
				   p->target_name);
			goto out;
		case ISCSI_LOOKUP_UNAVAILABLE:
			login_fail(login, rsp, TGT_ERR, ISCSI_LOGIN_DETAIL_SERVICE_UNAVAILABLE,
				   "initiator %s: target %s unavailable", login_who(login),
				   p->target_name);
			goto out;
		default:
			login_fail(login, rsp, INIT_ERR, ISCSI_LOGIN_DETAIL_NOT_FOUND,
				   "initiator %s: no target %s", login_who(login), p->target_name);
			goto out;
		}
	}
	login->auth_required = login->auth.chap.user[0] != '\0';
	if (login->auth_required && login->stage != ISCSI_STAGE_SECURITY) {
		login_fail(login, rsp, INIT_ERR, ISCSI_LOGIN_DETAIL_AUTH_FAILED,
			   "initiator %s skipped required authentication", login_who(login));
		goto out;
	}
	login->state = LOGIN_ACTIVE;
	if (p->session_type == ISCSI_SESSION_NORMAL) {
		/* 13.9: TargetPortalGroupTag in the first response */
		snprintf(num, sizeof(num), "%u", env->tpgt);
		rc = buf_add_kv(&login->out, "TargetPortalGroupTag", num);
		if (!rc && login->auth.target_alias[0]) {
			snprintf(login->neg.p.target_alias, sizeof(login->neg.p.target_alias), "%s",
				 login->auth.target_alias);
			rc = buf_add_kv(&login->out, "TargetAlias", login->auth.target_alias);
		}
	}
out:
	return rc;
}

/*
 * 12.1, 13.x AuthMethod: CHAP when the target requires it, None when it does
 * not; the initiator's order of preference decides among what is left.
 */
static int login_security(struct iscsi_login *login, const struct iscsi_login_req *req,
			  struct iscsi_login_rsp *rsp, bool *done)
{
	static const char *const chap[] = {"CHAP"}, *const none[] = {"None"};
	const struct iscsi_kv *am = iscsi_neg_get(&login->neg, ISCSI_KEY_AUTH_METHOD);
	bool chap_keys = false;
	int k, rc = 0;

	*done = false;
	for (k = ISCSI_KEY_CHAP_A; k <= ISCSI_KEY_CHAP_R; k++)
		chap_keys |= iscsi_neg_get(&login->neg, (enum iscsi_key)k) != NULL;
	if (am) {
		if (iscsi_text_list_pick(am, login->auth_required ? chap : none, 1) < 0) {
			login_fail(login, rsp, INIT_ERR, ISCSI_LOGIN_DETAIL_AUTH_FAILED,
				   "initiator %s offers no acceptable AuthMethod (%s)",
				   login_who(login),
				   login->auth_required ? "CHAP required" : "None");
			goto out;
		}
		rc = buf_add_kv(&login->out, "AuthMethod", login->auth_required ? "CHAP" : "None");
		if (rc)
			goto out;
		login->auth_method_done = true;
		if (login->auth_required) {
			login->chap = iscsi_chap_create(&login->auth, login->env->random_bytes,
							login->env->ctx);
			if (!login->chap) {
				rc = -ENOMEM;
				goto out;
			}
		}
	}
	if (chap_keys && !login->chap) {
		login_fail(login, rsp, INIT_ERR, ISCSI_LOGIN_DETAIL_INIT_ERR,
			   "initiator %s sent CHAP keys without AuthMethod=CHAP", login_who(login));
		goto out;
	}
	if (login->chap) {
		rc = iscsi_chap_step(login->chap, &login->neg, &login->out);
		if (rc == -EACCES || rc == -EPROTO) {
			login_fail(login, rsp, INIT_ERR, ISCSI_LOGIN_DETAIL_AUTH_FAILED,
				   "CHAP authentication failed for %s: %s", login_who(login),
				   iscsi_chap_why(login->chap));
			rc = 0;
			goto out;
		}
		if (rc == -ENOMEM)
			goto out;
		if (rc) {
			login_fail(login, rsp, TGT_ERR, ISCSI_LOGIN_DETAIL_TARGET_ERROR,
				   "initiator %s: no random bytes for CHAP (%d)", login_who(login),
				   rc);
			rc = 0;
			goto out;
		}
		*done = iscsi_chap_done(login->chap);
	} else if (!login->auth_required) {
		*done = true; /* AuthMethod=None, offered or by default */
	} else if (req->transit && !login->auth_method_done) {
		login_fail(login, rsp, INIT_ERR, ISCSI_LOGIN_DETAIL_AUTH_FAILED,
			   "initiator %s skipped required authentication", login_who(login));
	}
out:
	return rc;
}

/* Negotiate the complete text of one request and decide on the transition. */
static int login_text_process(struct iscsi_login *login, const struct iscsi_login_req *req,
			      struct iscsi_login_rsp *rsp)
{
	bool secured = true;
	int rc;

	login->out.len = 0;
	login->out_off = 0;
	rc = iscsi_neg_parse(&login->neg, login->in.data, login->in.len, login->stage, &login->out);
	/* 13.4-13.6, 13.21: these name the session and belong to the first
	 * request; the target was looked up with them. */
	if (!rc && login->state != LOGIN_FIRST &&
	    (iscsi_neg_get(&login->neg, ISCSI_KEY_SESSION_TYPE) ||
	     iscsi_neg_get(&login->neg, ISCSI_KEY_INITIATOR_NAME) ||
	     iscsi_neg_get(&login->neg, ISCSI_KEY_TARGET_NAME))) {
		snprintf(login->neg.why, sizeof(login->neg.why),
			 "SessionType, InitiatorName or TargetName after the first request");
		rc = -EPROTO;
	}
	if (!rc)
		rc = iscsi_neg_answer(&login->neg, &login->out);
	if (rc == -EOPNOTSUPP) {
		login_fail(login, rsp, INIT_ERR, ISCSI_LOGIN_DETAIL_SESSION_TYPE_UNSUPPORTED,
			   "initiator %s: %s", login_who(login), login->neg.why);
		rc = 0;
		goto out;
	}
	if (rc == -EINVAL || rc == -EPROTO) {
		login_fail(login, rsp, INIT_ERR, ISCSI_LOGIN_DETAIL_INIT_ERR, "initiator %s: %s",
			   login_who(login), login->neg.why);
		rc = 0;
		goto out;
	}
	if (rc)
		goto out;
	if (login->state == LOGIN_FIRST) {
		rc = login_first(login, rsp);
		if (rc || login->state == LOGIN_FAILED)
			goto out;
	}
	if (login->stage == ISCSI_STAGE_SECURITY) {
		rc = login_security(login, req, rsp, &secured);
		if (rc || login->state == LOGIN_FAILED)
			goto out;
	}
	/* We hold the transition back until authentication is complete. */
	login->out_transit = req->transit && secured;
	login->out_nsg = req->nsg;
	/* 13.12: declare our MaxRecvDataSegmentLength in the operational
	 * stage, or on the way straight to full feature phase. */
	if (login->stage == ISCSI_STAGE_OPERATIONAL ||
	    (login->out_transit && req->nsg == ISCSI_STAGE_FULL_FEATURE)) {
		rc = iscsi_neg_declare(&login->neg, &login->out);
		if (rc)
			goto out;
	}
	if (login->out_transit && req->nsg == ISCSI_STAGE_FULL_FEATURE)
		iscsi_neg_finish(&login->neg);
	rc = login->out.err;
	if (!rc)
		login_rsp_emit(login, rsp);
out:
	return rc;
}

int iscsi_login_step(struct iscsi_login *login, const struct iscsi_login_req *req,
		     struct iscsi_login_rsp *rsp)
{
	int rc = 0;

	memset(rsp, 0, sizeof(*rsp));
	if (login->state == LOGIN_FAILED) {
		login_fail(login, rsp, login->fail_class, login->fail_detail, "%s", "login failed");
		goto out;
	}
	if (login->state == LOGIN_DONE) {
		login_fail(login, rsp, INIT_ERR, ISCSI_LOGIN_DETAIL_INIT_ERR,
			   "initiator %s: Login Request after the login completed",
			   login_who(login));
		goto out;
	}
	if (++login->n_pdus > ISCSI_LOGIN_PDU_MAX) {
		login_fail(login, rsp, INIT_ERR, ISCSI_LOGIN_DETAIL_INIT_ERR,
			   "initiator %s: more than %d Login Requests", login_who(login),
			   ISCSI_LOGIN_PDU_MAX);
		goto out;
	}
	if (!login_header_check(login, req, rsp))
		goto out;
	if (login->out_off) {
		/* 6.3: the initiator asks for the rest of our response with
		 * empty requests. */
		if (req->data_len || req->cont) {
			login_fail(login, rsp, INIT_ERR, ISCSI_LOGIN_DETAIL_INIT_ERR,
				   "initiator %s sent text while our response continued",
				   login_who(login));
			goto out;
		}
		login_rsp_emit(login, rsp);
		goto out;
	}
	if (req->data_len > ISCSI_LOGIN_TEXT_MAX - login->in.len) {
		login_fail(login, rsp, TGT_ERR, ISCSI_LOGIN_DETAIL_OUT_OF_RESOURCES,
			   "initiator %s: login text over %d bytes", login_who(login),
			   ISCSI_LOGIN_TEXT_MAX);
		goto out;
	}
	rc = buf_append(&login->in, req->data, req->data_len);
	if (rc)
		goto out;
	if (req->cont) {
		/* 6.3, 11.12.2: more text follows; answer with an empty response
		 * in the same stage. */
		rsp->csg = (uint8_t)login->stage;
		goto out;
	}
	rc = login_text_process(login, req, rsp);
	if (login->in.len)
		OPENSSL_cleanse(login->in.data, login->in.len);
	login->in.len = 0;
out:
	return rc;
}
