/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * hatgt.conf parser on top of inih (docs/config.md is the reference).
 *
 * The packaged inih reports no line numbers to the handler (it is built
 * without INI_HANDLER_LINENO), continues after errors and joins indented
 * lines to the previous value (INI_ALLOW_MULTILINE). We therefore feed it
 * through our own line reader, which
 *  - counts lines, so every message is "FILE:LINE: reason";
 *  - strips leading white space, so an indented "key = value" is a key and
 *    never silently becomes part of the previous value;
 *  - sees every "[section]" line itself, so a section without keys (a
 *    target without LUNs) still exists, and validates a finished section
 *    before the next one starts;
 *  - rejects lines longer than inih's buffer instead of letting inih split
 *    them;
 *  - stops at the first error.
 */
#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <net/if.h>
#include <netdb.h>
#include <netinet/in.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include <ini.h>
#include <openssl/evp.h>

#include "config.h"
#include "util/be.h"

#define CFG_MAX_FILE (1024 * 1024)
#define CFG_DEFAULT_PORT 3260
/* RFC 7143 section 12.1.3: a CHAP secret with less than 96 random bits
 * needs IPsec, which we do not provide. */
#define CFG_SECRET_MIN 12

const char hatgt_config_default[] = "[global]\n"
				    "listen = 127.0.0.1:3260\n"
				    "state_dir = /var/lib/hatgt\n"
				    "\n"
				    "[target iqn.2026-11.org.hatgt:default]\n"
				    "lun0 = /var/lib/hatgt/default.img\n"
				    "lun0_size = 1G\n";

enum cfg_kind {
	CFG_K_STR,	/* char *, any text */
	CFG_K_PATH,	/* char *, absolute path */
	CFG_K_U32,	/* uint32_t in [min, max] */
	CFG_K_U32_AUTO, /* uint32_t in [min, max], or "auto" (UINT32_MAX) */
	CFG_K_U16,	/* uint16_t in [min, max] */
	CFG_K_CHARS,	/* char[max + 1], printable ASCII, 1..max bytes */
	CFG_K_SECRET,	/* char[max + 1], CFG_SECRET_MIN..max bytes */
	CFG_K_CLUSTER,	/* enum hatgt_cluster_mode */
	CFG_K_DEMOTE,	/* enum hatgt_demote_mode */
	CFG_K_LOGLEVEL, /* char *, one of cfg_log_levels */
	CFG_K_SVCNAME,	/* char *, libqb IPC service name */
	CFG_K_LISTEN,	/* portals */
	CFG_K_ALLOW,	/* initiator names, repeatable */
	CFG_K_INCLUDE,	/* a file or directory of [target] sections, repeatable */
};

struct cfg_key {
	const char *name;
	enum cfg_kind kind;
	size_t off;
	uint32_t min, max;
};

#define GOFF(f) offsetof(struct hatgt_config, f)
#define TOFF(f) offsetof(struct hatgt_target_cfg, f)
#define CRED_MAX (sizeof(((struct iscsi_chap_cred *)0)->user) - 1)

/* Indices into cfg_global_keys[] used by the final checks. */
enum {
	CFG_G_DCHAP_USER = 0,
	CFG_G_DCHAP_SECRET,
	CFG_G_DMUTUAL_USER,
	CFG_G_DMUTUAL_SECRET,
};

static const struct cfg_key cfg_global_keys[] = {
	[CFG_G_DCHAP_USER] = {"discovery_chap_user", CFG_K_CHARS, GOFF(discovery_auth.chap.user), 1,
			      CRED_MAX},
	[CFG_G_DCHAP_SECRET] = {"discovery_chap_secret", CFG_K_SECRET,
				GOFF(discovery_auth.chap.secret), CFG_SECRET_MIN, CRED_MAX},
	[CFG_G_DMUTUAL_USER] = {"discovery_mutual_user", CFG_K_CHARS,
				GOFF(discovery_auth.mutual.user), 1, CRED_MAX},
	[CFG_G_DMUTUAL_SECRET] = {"discovery_mutual_secret", CFG_K_SECRET,
				  GOFF(discovery_auth.mutual.secret), CFG_SECRET_MIN, CRED_MAX},
	{"listen", CFG_K_LISTEN, 0, 0, 0},
	{"state_dir", CFG_K_PATH, GOFF(state_dir), 0, 0},
	{"pid_file", CFG_K_PATH, GOFF(pid_file), 0, 0},
	{"admin_name", CFG_K_SVCNAME, GOFF(admin_name), 0, 0},
	{"log_level", CFG_K_LOGLEVEL, GOFF(log_level), 0, 0},
	{"cluster", CFG_K_CLUSTER, GOFF(cluster), 0, 0},
	{"demote_connections", CFG_K_DEMOTE, GOFF(demote_connections), 0, 0},
	{"include", CFG_K_INCLUDE, 0, 0, 0},
	/* SPC-4 section 6.6.2: T10 VENDOR IDENTIFICATION is 8 bytes, PRODUCT
	 * IDENTIFICATION 16, both printable ASCII. */
	{"vendor", CFG_K_CHARS, GOFF(vendor), 1, 8},
	{"product", CFG_K_CHARS, GOFF(product), 1, 16},
	{"max_sessions", CFG_K_U32, GOFF(max_sessions), 1, 65535},
	{"login_timeout", CFG_K_U32, GOFF(login_timeout), 1, 3600},
	{"nop_interval", CFG_K_U32, GOFF(nop_interval), 0, 3600},
	{"poll_us", CFG_K_U32_AUTO, GOFF(poll_us), 0, 100000},
	{"nop_timeout", CFG_K_U32, GOFF(nop_timeout), 1, 3600},
	{"max_connections", CFG_K_U32, GOFF(max_connections), 1, 65535},
	{"max_connections_per_address", CFG_K_U32, GOFF(max_connections_per_address), 1, 65535},
	{"max_sessions_per_target", CFG_K_U32, GOFF(max_sessions_per_target), 1, 65535},
	/* A session's CmdSN window is 128 (iscsi/conn.h); immediate commands
	 * (RFC 7143 3.2.2.1) bypass it, so this bounds them too. */
	{"max_commands_per_session", CFG_K_U32, GOFF(max_commands_per_session), 1, 4096},
	/* At least 16 MiB: one write of the largest transfer (8 MiB) must fit. */
	{"max_connection_memory_mb", CFG_K_U32, GOFF(max_connection_memory_mb), 16, 65536},
};

enum {
	CFG_T_CHAP_USER = 0,
	CFG_T_CHAP_SECRET,
	CFG_T_MUTUAL_USER,
	CFG_T_MUTUAL_SECRET,
};

static const struct cfg_key cfg_target_keys[] = {
	[CFG_T_CHAP_USER] = {"chap_user", CFG_K_CHARS, TOFF(auth.chap.user), 1, CRED_MAX},
	[CFG_T_CHAP_SECRET] = {"chap_secret", CFG_K_SECRET, TOFF(auth.chap.secret), CFG_SECRET_MIN,
			       CRED_MAX},
	[CFG_T_MUTUAL_USER] = {"mutual_user", CFG_K_CHARS, TOFF(auth.mutual.user), 1, CRED_MAX},
	[CFG_T_MUTUAL_SECRET] = {"mutual_secret", CFG_K_SECRET, TOFF(auth.mutual.secret),
				 CFG_SECRET_MIN, CRED_MAX},
	/* RFC 7143 section 13.6: TargetAlias is at most 255 bytes. */
	{"alias", CFG_K_STR, TOFF(alias), 1, 255},
	{"allow", CFG_K_ALLOW, 0, 0, 0},
	/* RFC 7143 section 13.9: TargetPortalGroupTag is 16 bits. */
	{"tpgt", CFG_K_U16, TOFF(tpgt), 0, 65535},
	/* SPC-4 section 7.8.6.7: relative target port identifier 0 is reserved. */
	{"rtpi", CFG_K_U16, TOFF(rtpi), 1, 65535},
};

#define CFG_NGLOBAL (sizeof(cfg_global_keys) / sizeof(cfg_global_keys[0]))
#define CFG_NTARGET (sizeof(cfg_target_keys) / sizeof(cfg_target_keys[0]))

/* Per-LUN keys: "lunN" followed by one of these suffixes. */
enum cfg_lun_key {
	CFG_L_PATH = 0,
	CFG_L_SIZE,
	CFG_L_READONLY,
	CFG_L_BLOCK_SIZE,
	CFG_L_SERIAL,
	CFG_L_NAA,
	CFG_L_PHYS_BLOCK_SIZE,
	CFG_L_REMOVABLE,
	CFG_L_KEY_FILE,
	CFG_L_COUNT
};

static const char *const cfg_lun_suffix[CFG_L_COUNT] = {
	[CFG_L_PATH] = "",
	[CFG_L_SIZE] = "_size",
	[CFG_L_READONLY] = "_readonly",
	[CFG_L_BLOCK_SIZE] = "_block_size",
	[CFG_L_SERIAL] = "_serial",
	[CFG_L_NAA] = "_naa",
	[CFG_L_PHYS_BLOCK_SIZE] = "_physical_block_size",
	[CFG_L_REMOVABLE] = "_removable",
	[CFG_L_KEY_FILE] = "_encryption_key_file",
};

/* lunN_physical_block_size: the largest we accept (SBC-3 5.16 allows 2^15 blocks). */
#define CFG_PHYS_BLOCK_MAX (1024u * 1024)

static const char *const cfg_log_levels[] = {"error", "warning", "notice", "info", "debug"};

enum cfg_section { CFG_SEC_NONE = 0, CFG_SEC_GLOBAL, CFG_SEC_TARGET };

struct cfg_lun_aux {
	int line[CFG_L_COUNT]; /* 0: key not seen */
};

struct cfg_parse {
	struct hatgt_config *cfg;
	const char *name; /* for messages */
	const char *pos;  /* reader position in the text */
	int line;	  /* the line last handed to inih */
	int err;
	char *errbuf;
	size_t errlen;
	enum cfg_section sec;
	int global_line; /* line of [global], 0: not seen */
	int gline[CFG_NGLOBAL];
	struct hatgt_target_cfg *tgt; /* current target section */
	int tline[CFG_NTARGET];
	struct cfg_lun_aux lun[HATGT_MAX_LUNS];
	bool included; /* a file named by include: [target] sections only */
};

/* Record the first error only. \return 0, inih's "handler failed". */
__attribute__((format(printf, 4, 5))) static int cfg_fail(struct cfg_parse *p, int line, int err,
							  const char *fmt, ...)
{
	va_list ap;
	int n = 0;

	if (p->err)
		return 0;
	p->err = err;
	if (!p->errbuf || !p->errlen)
		return 0;
	if (line > 0)
		n = snprintf(p->errbuf, p->errlen, "%s:%d: ", p->name, line);
	else
		n = snprintf(p->errbuf, p->errlen, "%s: ", p->name);
	if (n < 0 || (size_t)n >= p->errlen)
		return 0;
	va_start(ap, fmt);
	vsnprintf(p->errbuf + n, p->errlen - (size_t)n, fmt, ap);
	va_end(ap);
	return 0;
}

static int cfg_fail_nomem(struct cfg_parse *p)
{
	return cfg_fail(p, p->line, -ENOMEM, "out of memory");
}

static bool cfg_is_printable(const char *s)
{
	for (; *s; s++)
		if ((unsigned char)*s < 0x20 || (unsigned char)*s > 0x7e)
			return false;
	return true;
}

/* Digits only: strtoull would accept "-1", " 1" and "0x1". */
static int cfg_parse_u64(const char *s, uint64_t *out, const char **end)
{
	unsigned long long v;
	char *e;

	if (!isdigit((unsigned char)*s))
		return -EINVAL;
	errno = 0;
	v = strtoull(s, &e, 10);
	if (errno == ERANGE)
		return -ERANGE;
	*out = v;
	*end = e;
	return 0;
}

int hatgt_parse_size(const char *s, uint64_t *out)
{
	static const char units[] = "KMGT";
	const char *end, *u;
	uint64_t v, mult = 1;
	int rc;

	rc = cfg_parse_u64(s, &v, &end);
	if (rc)
		return rc;
	if (*end) {
		/* K, M, G, T: powers of 1024. */
		u = strchr(units, toupper((unsigned char)*end));
		if (!u || end[1])
			return -EINVAL;
		mult = 1ULL << (10 * (u - units + 1));
	}
	if (v > UINT64_MAX / mult)
		return -ERANGE;
	*out = v * mult;
	return 0;
}

static int cfg_hex_nibble(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	c = (char)tolower((unsigned char)c);
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	return -1;
}

static bool cfg_is_hex(const char *s, size_t len)
{
	size_t i;

	for (i = 0; i < len; i++)
		if (cfg_hex_nibble(s[i]) < 0)
			return false;
	return s[len] == '\0';
}

/* RFC 7143 section 4.2.7.2: "iqn." yyyy-mm "." reversed domain name. */
static const char *cfg_iqn_check(const char *s)
{
	static const char *const bad = "iqn. name must look like iqn.yyyy-mm.reversed.domain[:id]";
	unsigned int month;
	int i;

	for (i = 4; i < 8; i++)
		if (!isdigit((unsigned char)s[i]))
			return bad;
	if (s[8] != '-' || !isdigit((unsigned char)s[9]) || !isdigit((unsigned char)s[10]))
		return bad;
	month = (unsigned int)(s[9] - '0') * 10 + (unsigned int)(s[10] - '0');
	if (month < 1 || month > 12)
		return "iqn. name has a month outside 01..12";
	if (s[11] != '.' || s[12] == '\0' || s[12] == '.' || s[12] == ':')
		return bad;
	return NULL;
}

int hatgt_iscsi_name_normalize(const char *in, char *out, size_t outlen, const char **why)
{
	size_t len = strlen(in), i;
	const char *reason = NULL;
	char c;

	if (len == 0) {
		reason = "empty iSCSI name";
		goto out;
	}
	if (len > ISCSI_NAME_MAX - 1) {
		reason = "iSCSI name longer than 223 bytes (RFC 7143 section 4.2.7)";
		goto out;
	}
	if (outlen < len + 1) {
		reason = "iSCSI name does not fit";
		goto out;
	}
	/* RFC 7143 section 4.2.7 and RFC 3722: names are compared after
	 * stringprep, which maps upper case to lower case; the result may hold
	 * only a-z, 0-9, '-', '.', ':' (and non-ASCII, which we do not accept
	 * because we do not implement stringprep). */
	for (i = 0; i < len; i++) {
		c = (char)tolower((unsigned char)in[i]);
		if (!(c >= 'a' && c <= 'z') && !(c >= '0' && c <= '9') && c != '-' && c != '.' &&
		    c != ':') {
			reason = (unsigned char)c >= 0x80
					 ? "non-ASCII iSCSI names are not supported"
					 : "iSCSI names may only contain a-z, 0-9, "
					   "'-', '.' and ':' (RFC 7143 section "
					   "4.2.7)";
			goto out;
		}
		out[i] = c;
	}
	out[len] = '\0';
	if (!strncmp(out, "iqn.", 4)) {
		reason = cfg_iqn_check(out);
	} else if (!strncmp(out, "eui.", 4)) {
		/* RFC 7143 section 4.2.7.3: 16 hex digits of an EUI-64. */
		if (len != 4 + 16 || !cfg_is_hex(out + 4, 16))
			reason = "eui. name must have exactly 16 hex digits";
	} else if (!strncmp(out, "naa.", 4)) {
		/* RFC 7143 section 4.2.7.4: 16 or 32 hex digits. */
		if (!((len == 4 + 16 && cfg_is_hex(out + 4, 16)) ||
		      (len == 4 + 32 && cfg_is_hex(out + 4, 32))))
			reason = "naa. name must have 16 or 32 hex digits";
	} else {
		reason = "iSCSI name must start with iqn., eui. or naa. (RFC 7143 section 4.2.7)";
	}
out:
	if (why)
		*why = reason;
	return reason ? -EINVAL : 0;
}

int hatgt_config_lun_identity(const char *target, uint32_t lun, char serial[33], uint8_t naa[16],
			      uint8_t *naa_len)
{
	uint8_t in[ISCSI_NAME_MAX + 4];
	uint8_t md[EVP_MAX_MD_SIZE];
	unsigned int mdlen = 0;
	size_t len = strlen(target), i;

	if (len > ISCSI_NAME_MAX - 1)
		return -EINVAL;
	/* SHA-256 over the name, a NUL and the LUN number (big-endian), so
	 * both cluster nodes derive the same identity from the same config. */
	memcpy(in, target, len + 1);
	put_be32(in + len + 1, lun);
	if (!EVP_Digest(in, len + 5, md, &mdlen, EVP_sha256(), NULL) || mdlen < 16)
		return -ENOMEM;
	/* Unit serial number (SPC-4 section 7.8.16): 16 hex digits. */
	for (i = 0; i < 8; i++)
		snprintf(serial + 2 * i, 3, "%02X", md[i]);
	/* NAA 3, locally assigned (SPC-4 section 7.8.6.6.3): the top nibble
	 * is the NAA type, the other 60 bits come from the hash. */
	memset(naa, 0, 16);
	memcpy(naa, md + 8, 8);
	naa[0] = (uint8_t)(0x30 | (naa[0] & 0x0f));
	*naa_len = 8;
	return 0;
}

static void cfg_lun_free(struct hatgt_lun_cfg *l)
{
	free(l->path);
	free(l->key_file);
}

static void cfg_target_free(struct hatgt_target_cfg *t)
{
	size_t i;

	free(t->name);
	free(t->alias);
	for (i = 0; i < t->nluns; i++)
		cfg_lun_free(&t->luns[i]);
	free(t->luns);
	for (i = 0; i < t->nallow; i++)
		free(t->allow[i]);
	free(t->allow);
	explicit_bzero(&t->auth, sizeof(t->auth));
}

void hatgt_config_free(struct hatgt_config *cfg)
{
	size_t i;

	if (!cfg)
		return;
	for (i = 0; i < cfg->ntargets; i++)
		cfg_target_free(&cfg->targets[i]);
	free(cfg->targets);
	for (i = 0; i < cfg->nincludes; i++)
		free(cfg->includes[i]);
	free(cfg->includes);
	free(cfg->path);
	free(cfg->state_dir);
	free(cfg->pid_file);
	free(cfg->admin_name);
	free(cfg->log_level);
	explicit_bzero(&cfg->discovery_auth, sizeof(cfg->discovery_auth));
	free(cfg);
}

const struct hatgt_target_cfg *hatgt_config_target(const struct hatgt_config *cfg, const char *name)
{
	size_t i;

	if (!cfg || !name)
		return NULL;
	/* Names are ASCII and stored in normal form (lower case). */
	for (i = 0; i < cfg->ntargets; i++)
		if (!strcasecmp(cfg->targets[i].name, name))
			return &cfg->targets[i];
	return NULL;
}

/* Replace a string member. \return 0 or -ENOMEM. */
static int cfg_str_set(char **dst, const char *value)
{
	char *s = strdup(value);

	if (!s)
		return -ENOMEM;
	free(*dst);
	*dst = s;
	return 0;
}

static int cfg_defaults_set(struct hatgt_config *cfg, const char *name)
{
	if (cfg_str_set(&cfg->path, name) || cfg_str_set(&cfg->state_dir, "/var/lib/hatgt") ||
	    cfg_str_set(&cfg->admin_name, "hatgt") || cfg_str_set(&cfg->log_level, "notice"))
		return -ENOMEM;
	snprintf(cfg->vendor, sizeof(cfg->vendor), "%s", "HATGT");
	snprintf(cfg->product, sizeof(cfg->product), "%s", "VIRTUAL-DISK");
	cfg->cluster = HATGT_CLUSTER_NONE;
	cfg->demote_connections = HATGT_DEMOTE_PARK;
	cfg->max_sessions = 1024;
	cfg->login_timeout = 15;
	cfg->nop_interval = 5;
	cfg->nop_timeout = 30;
	cfg->poll_us = HATGT_POLL_AUTO;
	cfg->max_connections = 1024;
	cfg->max_connections_per_address = 64;
	cfg->max_sessions_per_target = 256;
	cfg->max_commands_per_session = 128;
	cfg->max_connection_memory_mb = 64;
	return 0;
}

/* One "ADDR:PORT", "[ADDR6]:PORT", "ADDR" or "[ADDR6]" (port 3260). */
static int cfg_portal_parse(struct cfg_parse *p, const char *s, struct hatgt_portal *pt)
{
	char host[INET6_ADDRSTRLEN + IF_NAMESIZE + 2], port[8], text[sizeof(host)];
	struct addrinfo hints = {0}, *ai = NULL;
	const char *h = s, *colon, *portstr = NULL, *end;
	size_t hlen;
	uint64_t v;
	int rc;

	if (*s == '[') {
		end = strchr(s, ']');
		if (!end)
			return cfg_fail(p, p->line, -EINVAL, "listen: '%s': missing ']'", s);
		h = s + 1;
		hlen = (size_t)(end - h);
		if (end[1] == ':')
			portstr = end + 2;
		else if (end[1] != '\0')
			return cfg_fail(p, p->line, -EINVAL,
					"listen: '%s': expected ':PORT' after ']'", s);
		hints.ai_family = AF_INET6;
	} else {
		colon = strchr(s, ':');
		if (colon && strchr(colon + 1, ':'))
			return cfg_fail(p, p->line, -EINVAL,
					"listen: '%s': write IPv6 addresses as [ADDR]:PORT", s);
		hlen = colon ? (size_t)(colon - s) : strlen(s);
		if (colon)
			portstr = colon + 1;
		hints.ai_family = AF_INET;
	}
	if (hlen == 0 || hlen >= sizeof(host))
		return cfg_fail(p, p->line, -EINVAL, "listen: '%s': bad address", s);
	memcpy(host, h, hlen);
	host[hlen] = '\0';
	v = CFG_DEFAULT_PORT;
	if (portstr && (cfg_parse_u64(portstr, &v, &end) || *end || v < 1 || v > 65535))
		return cfg_fail(p, p->line, -EINVAL, "listen: '%s': port must be 1..65535", s);
	snprintf(port, sizeof(port), "%u", (unsigned int)v);
	hints.ai_socktype = SOCK_STREAM;
	hints.ai_flags = AI_NUMERICHOST | AI_NUMERICSERV;
	rc = getaddrinfo(host, port, &hints, &ai);
	if (rc)
		return cfg_fail(p, p->line, rc == EAI_MEMORY ? -ENOMEM : -EINVAL,
				"listen: '%s': %s", s,
				rc == EAI_NONAME ? "not a numeric IP address" : gai_strerror(rc));
	memset(pt, 0, sizeof(*pt));
	memcpy(&pt->addr, ai->ai_addr, ai->ai_addrlen);
	pt->addr_len = ai->ai_addrlen;
	freeaddrinfo(ai);
	/* The canonical text, as SendTargets reports it (RFC 7143 section
	 * 13.8: TargetAddress is domainname[:port][,tpgt], IPv6 in brackets). */
	rc = getnameinfo((struct sockaddr *)&pt->addr, pt->addr_len, text, sizeof(text), NULL, 0,
			 NI_NUMERICHOST);
	if (rc)
		return cfg_fail(p, p->line, -EINVAL, "listen: '%s': %s", s, gai_strerror(rc));
	if (pt->addr.ss_family == AF_INET6)
		snprintf(pt->text, sizeof(pt->text), "[%s]:%s", text, port);
	else
		snprintf(pt->text, sizeof(pt->text), "%s:%s", text, port);
	return 1;
}

static char *cfg_trim(char *s)
{
	char *e;

	while (*s == ' ' || *s == '\t')
		s++;
	e = s + strlen(s);
	while (e > s && (e[-1] == ' ' || e[-1] == '\t'))
		*--e = '\0';
	return s;
}

/* Call fn for each comma-separated, trimmed element of value. */
static int cfg_list_foreach(struct cfg_parse *p, const char *key, const char *value,
			    int (*fn)(struct cfg_parse *p, const char *item))
{
	char tmp[INI_MAX_LINE + 1], *item, *comma;

	if (strlen(value) >= sizeof(tmp))
		return cfg_fail(p, p->line, -EINVAL, "%s: value too long", key);
	snprintf(tmp, sizeof(tmp), "%s", value);
	item = tmp;
	for (;;) {
		comma = strchr(item, ',');
		if (comma)
			*comma = '\0';
		item = cfg_trim(item);
		if (!*item)
			return cfg_fail(p, p->line, -EINVAL, "%s: empty list element", key);
		if (!fn(p, item))
			return 0;
		if (!comma)
			break;
		item = comma + 1;
	}
	return 1;
}

static int cfg_listen_add(struct cfg_parse *p, const char *item)
{
	struct hatgt_config *cfg = p->cfg;
	struct hatgt_portal pt;
	size_t i;

	if (!cfg_portal_parse(p, item, &pt))
		return 0;
	for (i = 0; i < cfg->nportals; i++)
		if (!strcmp(cfg->portals[i].text, pt.text))
			return cfg_fail(p, p->line, -EINVAL, "listen: duplicate portal %s",
					pt.text);
	if (cfg->nportals == HATGT_MAX_PORTALS)
		return cfg_fail(p, p->line, -EINVAL, "listen: more than %d portals",
				HATGT_MAX_PORTALS);
	cfg->portals[cfg->nportals++] = pt;
	return 1;
}

static int cfg_allow_add(struct cfg_parse *p, const char *item)
{
	struct hatgt_target_cfg *t = p->tgt;
	char name[ISCSI_NAME_MAX];
	const char *why;
	char **v;
	size_t i;

	if (hatgt_iscsi_name_normalize(item, name, sizeof(name), &why))
		return cfg_fail(p, p->line, -EINVAL, "allow: '%s': %s", item, why);
	for (i = 0; i < t->nallow; i++)
		if (!strcmp(t->allow[i], name))
			return cfg_fail(p, p->line, -EINVAL, "allow: %s listed twice", name);
	v = realloc(t->allow, (t->nallow + 1) * sizeof(*v));
	if (!v)
		return cfg_fail_nomem(p);
	t->allow = v;
	v[t->nallow] = strdup(name);
	if (!v[t->nallow])
		return cfg_fail_nomem(p);
	t->nallow++;
	return 1;
}

static int cfg_include_add(struct cfg_parse *p, const char *value);

static int cfg_svcname_check(const char *s)
{
	size_t len = strlen(s), i;

	if (len == 0 || len > 64)
		return -EINVAL;
	for (i = 0; i < len; i++)
		if (!isalnum((unsigned char)s[i]) && s[i] != '-' && s[i] != '_' && s[i] != '.')
			return -EINVAL;
	return 0;
}

/* A key with two values, first or second: *second says which. \return 1,
 * or 0 after cfg_fail() naming both. */
static int cfg_choice(struct cfg_parse *p, const char *key, const char *value, const char *first,
		      const char *second_name, bool *second)
{
	*second = !strcmp(value, second_name);
	if (*second || !strcmp(value, first))
		return 1;
	return cfg_fail(p, p->line, -EINVAL, "%s: '%s': expected %s or %s", key, value, first,
			second_name);
}

/* Set one key of the table on base (the config or a target). \return 1 or
 * 0 after cfg_fail(). */
static int cfg_value_set(struct cfg_parse *p, const struct cfg_key *k, void *base,
			 const char *value)
{
	char *field = (char *)base + k->off;
	const char *end;
	size_t len = strlen(value), i;
	bool second;
	uint64_t v;
	int rc;

	switch (k->kind) {
	case CFG_K_PATH:
		if (value[0] != '/')
			return cfg_fail(p, p->line, -EINVAL, "%s: '%s' is not an absolute path",
					k->name, value);
		/* fall through */
	case CFG_K_STR:
		if (k->max && len > k->max)
			return cfg_fail(p, p->line, -EINVAL, "%s: longer than %u bytes", k->name,
					k->max);
		if (len == 0)
			return cfg_fail(p, p->line, -EINVAL, "%s: empty value", k->name);
		if (cfg_str_set((char **)field, value))
			return cfg_fail_nomem(p);
		return 1;
	case CFG_K_U32_AUTO:
		if (!strcmp(value, "auto")) {
			*(uint32_t *)(void *)field = UINT32_MAX;
			return 1;
		}
		/* fall through */
	case CFG_K_U32:
	case CFG_K_U16:
		rc = cfg_parse_u64(value, &v, &end);
		if (rc == -EINVAL || (!rc && *end))
			return cfg_fail(p, p->line, -EINVAL, "%s: '%s' is not a number%s", k->name,
					value, k->kind == CFG_K_U32_AUTO ? " or 'auto'" : "");
		if (rc || v < k->min || v > k->max)
			return cfg_fail(p, p->line, -ERANGE, "%s: %s is out of range %u..%u",
					k->name, value, k->min, k->max);
		if (k->kind != CFG_K_U16)
			*(uint32_t *)(void *)field = (uint32_t)v;
		else
			*(uint16_t *)(void *)field = (uint16_t)v;
		return 1;
	case CFG_K_SECRET:
		if (len < k->min)
			return cfg_fail(p, p->line, -EINVAL,
					"%s: CHAP secrets must be at least %u bytes "
					"(RFC 7143 section 12.1.3)",
					k->name, k->min);
		/* fall through */
	case CFG_K_CHARS:
		if (len < 1 || len > k->max)
			return cfg_fail(p, p->line, -EINVAL, "%s: must be 1..%u characters",
					k->name, k->max);
		if (!cfg_is_printable(value))
			return cfg_fail(p, p->line, -EINVAL, "%s: only printable ASCII allowed",
					k->name);
		memcpy(field, value, len + 1);
		return 1;
	case CFG_K_CLUSTER:
		if (!cfg_choice(p, k->name, value, "none", "corosync", &second))
			return 0;
		*(enum hatgt_cluster_mode *)(void *)field =
			second ? HATGT_CLUSTER_COROSYNC : HATGT_CLUSTER_NONE;
		return 1;
	case CFG_K_DEMOTE:
		if (!cfg_choice(p, k->name, value, "park", "logout", &second))
			return 0;
		*(enum hatgt_demote_mode *)(void *)field =
			second ? HATGT_DEMOTE_LOGOUT : HATGT_DEMOTE_PARK;
		return 1;
	case CFG_K_LOGLEVEL:
		for (i = 0; i < sizeof(cfg_log_levels) / sizeof(cfg_log_levels[0]); i++)
			if (!strcmp(value, cfg_log_levels[i]))
				break;
		if (i == sizeof(cfg_log_levels) / sizeof(cfg_log_levels[0]))
			return cfg_fail(p, p->line, -EINVAL,
					"log_level: '%s': expected error, warning, notice, info "
					"or debug",
					value);
		if (cfg_str_set((char **)field, value))
			return cfg_fail_nomem(p);
		return 1;
	case CFG_K_SVCNAME:
		if (cfg_svcname_check(value))
			return cfg_fail(p, p->line, -EINVAL,
					"%s: '%s': use 1..64 of A-Z a-z 0-9 . _ -", k->name, value);
		if (cfg_str_set((char **)field, value))
			return cfg_fail_nomem(p);
		return 1;
	case CFG_K_LISTEN:
		return cfg_list_foreach(p, k->name, value, cfg_listen_add);
	case CFG_K_ALLOW:
		return cfg_list_foreach(p, k->name, value, cfg_allow_add);
	case CFG_K_INCLUDE:
		return cfg_include_add(p, value);
	}
	return cfg_fail(p, p->line, -EINVAL, "%s: internal error", k->name);
}

/* Find key in a table, reject duplicates, set it. */
static int cfg_table_set(struct cfg_parse *p, const struct cfg_key *keys, size_t nkeys, int *lines,
			 void *base, const char *key, const char *value)
{
	size_t i;

	for (i = 0; i < nkeys; i++)
		if (!strcmp(keys[i].name, key))
			break;
	if (i == nkeys)
		return cfg_fail(p, p->line, -EINVAL, "unknown key '%s' in [%s]", key,
				p->sec == CFG_SEC_GLOBAL ? "global" : "target");
	/* "allow" may repeat to spread a long list over several lines,
	 * "include" to name several files or directories. */
	if (lines[i] && keys[i].kind != CFG_K_ALLOW && keys[i].kind != CFG_K_INCLUDE)
		return cfg_fail(p, p->line, -EINVAL, "duplicate key '%s' (first at line %d)", key,
				lines[i]);
	lines[i] = p->line;
	return cfg_value_set(p, &keys[i], base, value);
}

static struct hatgt_lun_cfg *cfg_lun_get(struct cfg_parse *p, uint32_t n)
{
	struct hatgt_target_cfg *t = p->tgt;
	struct hatgt_lun_cfg *l;
	size_t i;

	for (i = 0; i < t->nluns; i++)
		if (t->luns[i].lun == n)
			return &t->luns[i];
	l = realloc(t->luns, (t->nluns + 1) * sizeof(*l));
	if (!l)
		return NULL;
	t->luns = l;
	l = &t->luns[t->nluns++];
	memset(l, 0, sizeof(*l));
	l->lun = n;
	l->block_size = 512;
	return l;
}

/* NAA designator (SPC-4 section 7.8.6.6): 32 hex digits with NAA 6, or 16
 * with NAA 3 (locally assigned) or 5 (IEEE Registered). */
static int cfg_naa_parse(const char *s, uint8_t *naa, uint8_t *naa_len)
{
	size_t len = strlen(s), i;
	int top;

	if ((len != 16 && len != 32) || !cfg_is_hex(s, len))
		return -EINVAL;
	top = cfg_hex_nibble(s[0]);
	if ((len == 32 && top != 6) || (len == 16 && top != 3 && top != 5))
		return -EINVAL;
	memset(naa, 0, 16);
	for (i = 0; i < len / 2; i++)
		naa[i] = (uint8_t)(cfg_hex_nibble(s[2 * i]) << 4 | cfg_hex_nibble(s[2 * i + 1]));
	*naa_len = (uint8_t)(len / 2);
	return 0;
}

static int cfg_bool_parse(const char *s, bool *out)
{
	static const char *const yes[] = {"yes", "true", "on", "1"};
	static const char *const no[] = {"no", "false", "off", "0"};
	size_t i;

	for (i = 0; i < 4; i++) {
		if (!strcasecmp(s, yes[i])) {
			*out = true;
			return 0;
		}
		if (!strcasecmp(s, no[i])) {
			*out = false;
			return 0;
		}
	}
	return -EINVAL;
}

/* "lunN" and "lunN_suffix". \return 1 handled, 0 failed, -1 not a LUN key. */
static int cfg_lun_key_set(struct cfg_parse *p, const char *key, const char *value)
{
	struct hatgt_lun_cfg *l;
	const char *end;
	uint64_t n, v;
	bool b;
	int k, rc;

	if (strncmp(key, "lun", 3) || cfg_parse_u64(key + 3, &n, &end))
		return -1;
	for (k = 0; k < CFG_L_COUNT; k++)
		if (!strcmp(end, cfg_lun_suffix[k]))
			break;
	if (k == CFG_L_COUNT)
		return cfg_fail(p, p->line, -EINVAL, "unknown key '%s' in [target]", key);
	if (n >= HATGT_MAX_LUNS || (key[3] == '0' && end != key + 4))
		return cfg_fail(p, p->line, -ERANGE, "%s: LUN number must be 0..%d (no leading 0)",
				key, HATGT_MAX_LUNS - 1);
	if (p->lun[n].line[k])
		return cfg_fail(p, p->line, -EINVAL, "duplicate key '%s' (first at line %d)", key,
				p->lun[n].line[k]);
	p->lun[n].line[k] = p->line;
	l = cfg_lun_get(p, (uint32_t)n);
	if (!l)
		return cfg_fail_nomem(p);
	switch (k) {
	case CFG_L_PATH:
		if (value[0] != '/')
			return cfg_fail(p, p->line, -EINVAL, "%s: '%s' is not an absolute path",
					key, value);
		l->path = strdup(value);
		if (!l->path)
			return cfg_fail_nomem(p);
		break;
	case CFG_L_KEY_FILE:
		if (value[0] != '/')
			return cfg_fail(p, p->line, -EINVAL, "%s: '%s' is not an absolute path",
					key, value);
		l->key_file = strdup(value);
		if (!l->key_file)
			return cfg_fail_nomem(p);
		break;
	case CFG_L_SIZE:
		rc = hatgt_parse_size(value, &v);
		if (rc == -ERANGE)
			return cfg_fail(p, p->line, -ERANGE, "%s: '%s' is too large", key, value);
		if (rc)
			return cfg_fail(p, p->line, -EINVAL,
					"%s: '%s' is not a size (NUMBER with optional K, M, G or "
					"T)",
					key, value);
		if (v == 0)
			return cfg_fail(p, p->line, -ERANGE, "%s: size must not be 0", key);
		l->size = v;
		break;
	case CFG_L_READONLY:
	case CFG_L_REMOVABLE:
		if (cfg_bool_parse(value, &b))
			return cfg_fail(p, p->line, -EINVAL, "%s: '%s': expected yes or no", key,
					value);
		if (k == CFG_L_READONLY)
			l->readonly = b;
		else
			l->removable = b;
		break;
	case CFG_L_PHYS_BLOCK_SIZE:
		/* Checked against the block size when the section is complete. */
		if (cfg_parse_u64(value, &v, &end) || *end || v < 512 || v > CFG_PHYS_BLOCK_MAX ||
		    (v & (v - 1)))
			return cfg_fail(p, p->line, -EINVAL,
					"%s: '%s': expected a power of two from 512 to %u", key,
					value, CFG_PHYS_BLOCK_MAX);
		l->physical_block_size = (uint32_t)v;
		break;
	case CFG_L_BLOCK_SIZE:
		if (cfg_parse_u64(value, &v, &end) || *end || (v != 512 && v != 4096))
			return cfg_fail(p, p->line, -EINVAL, "%s: '%s': expected 512 or 4096", key,
					value);
		l->block_size = (uint32_t)v;
		break;
	case CFG_L_SERIAL:
		/* SPC-4 section 7.8.16: PRODUCT SERIAL NUMBER, ASCII. */
		if (strlen(value) > sizeof(l->serial) - 1 || !cfg_is_printable(value))
			return cfg_fail(p, p->line, -EINVAL,
					"%s: must be 1..%zu printable ASCII characters", key,
					sizeof(l->serial) - 1);
		memcpy(l->serial, value, strlen(value) + 1);
		break;
	case CFG_L_NAA:
		if (cfg_naa_parse(value, l->naa, &l->naa_len))
			return cfg_fail(p, p->line, -EINVAL,
					"%s: expected 32 hex digits starting with 6 (NAA 6) or 16 "
					"starting with 3 or 5",
					key);
		break;
	}
	return 1;
}

static int cfg_lun_cmp(const void *a, const void *b)
{
	const struct hatgt_lun_cfg *x = a, *y = b;

	return (x->lun > y->lun) - (x->lun < y->lun);
}

/* CHAP pairs; lines are indices 0..3 as in CFG_[GT]_CHAP_USER... */
static int cfg_auth_check(struct cfg_parse *p, const struct iscsi_auth_cfg *a, const int *lines,
			  const char *prefix)
{
	const struct iscsi_chap_cred *c[2] = {&a->chap, &a->mutual};
	static const char *const what[2] = {"chap", "mutual"};
	int i;

	for (i = 0; i < 2; i++) {
		if (c[i]->user[0] && !c[i]->secret[0])
			return cfg_fail(p, lines[2 * i], -EINVAL, "%s%s_user without %s%s_secret",
					prefix, what[i], prefix, what[i]);
		if (!c[i]->user[0] && c[i]->secret[0])
			return cfg_fail(p, lines[2 * i + 1], -EINVAL,
					"%s%s_secret without %s%s_user", prefix, what[i], prefix,
					what[i]);
	}
	/* Mutual CHAP is the target answering the initiator's challenge
	 * after the initiator has authenticated (RFC 7143 section 12.1.3). */
	if (a->mutual.user[0] && !a->chap.user[0])
		return cfg_fail(p, lines[2], -EINVAL, "%smutual_user requires %schap_user", prefix,
				prefix);
	/* RFC 7143 section 12.1.3: the same secret must not be used in both
	 * directions. */
	if (a->mutual.secret[0] && !strcmp(a->mutual.secret, a->chap.secret))
		return cfg_fail(p, lines[3], -EINVAL,
				"%smutual_secret must differ from %schap_secret "
				"(RFC 7143 section 12.1.3)",
				prefix, prefix);
	return 1;
}

static int cfg_lun_first_line(const struct cfg_lun_aux *aux)
{
	int k, line = 0;

	for (k = 0; k < CFG_L_COUNT; k++)
		if (aux->line[k] && (!line || aux->line[k] < line))
			line = aux->line[k];
	return line;
}

/* A [target] section is complete: cross-key checks and identity. */
static int cfg_target_finish(struct cfg_parse *p)
{
	struct hatgt_target_cfg *t = p->tgt;
	struct cfg_lun_aux *aux;
	struct hatgt_lun_cfg *l;
	size_t i;

	for (i = 0; i < t->nluns; i++) {
		l = &t->luns[i];
		aux = &p->lun[l->lun];
		if (!l->path)
			return cfg_fail(p, cfg_lun_first_line(aux), -EINVAL,
					"lun%u_* given without lun%u = PATH", l->lun, l->lun);
		if (l->size % l->block_size)
			return cfg_fail(p, aux->line[CFG_L_SIZE], -EINVAL,
					"lun%u_size is not a multiple of the block size %u", l->lun,
					l->block_size);
		/* Both are powers of two: smaller is the only way not to be a multiple. */
		if (l->physical_block_size && l->physical_block_size < l->block_size)
			return cfg_fail(p, aux->line[CFG_L_PHYS_BLOCK_SIZE], -EINVAL,
					"lun%u_physical_block_size %u is smaller than the block "
					"size %u",
					l->lun, l->physical_block_size, l->block_size);
		if (!aux->line[CFG_L_SERIAL] || !aux->line[CFG_L_NAA]) {
			char serial[33];
			uint8_t naa[16], naa_len;

			if (hatgt_config_lun_identity(t->name, l->lun, serial, naa, &naa_len))
				return cfg_fail_nomem(p);
			if (!aux->line[CFG_L_SERIAL])
				memcpy(l->serial, serial, sizeof(serial));
			if (!aux->line[CFG_L_NAA]) {
				memcpy(l->naa, naa, sizeof(naa));
				l->naa_len = naa_len;
			}
		}
	}
	if (t->nluns > 1)
		qsort(t->luns, t->nluns, sizeof(*t->luns), cfg_lun_cmp);
	if (!cfg_auth_check(p, &t->auth, p->tline, ""))
		return 0;
	p->tgt = NULL;
	return 1;
}

static int cfg_target_begin(struct cfg_parse *p, const char *raw)
{
	struct hatgt_config *cfg = p->cfg;
	struct hatgt_target_cfg *t;
	char name[ISCSI_NAME_MAX];
	const char *why;
	size_t i;

	if (hatgt_iscsi_name_normalize(raw, name, sizeof(name), &why))
		return cfg_fail(p, p->line, -EINVAL, "target '%s': %s", raw, why);
	for (i = 0; i < cfg->ntargets; i++)
		if (!strcmp(cfg->targets[i].name, name))
			return cfg_fail(p, p->line, -EINVAL, "duplicate target %s", name);
	t = realloc(cfg->targets, (cfg->ntargets + 1) * sizeof(*t));
	if (!t)
		return cfg_fail_nomem(p);
	cfg->targets = t;
	t = &cfg->targets[cfg->ntargets];
	memset(t, 0, sizeof(*t));
	t->name = strdup(name);
	if (!t->name)
		return cfg_fail_nomem(p);
	cfg->ntargets++;
	t->tpgt = 1;
	t->rtpi = 1;
	p->tgt = t;
	memset(p->tline, 0, sizeof(p->tline));
	memset(p->lun, 0, sizeof(p->lun));
	return 1;
}

/* line starts with '['. Finish the previous section, start this one. */
static int cfg_section_begin(struct cfg_parse *p, char *line)
{
	char tmp[INI_MAX_LINE + 1], *close, *rest, *s;

	if (p->tgt && !cfg_target_finish(p))
		return 0;
	p->sec = CFG_SEC_NONE;
	snprintf(tmp, sizeof(tmp), "%s", line + 1);
	close = strchr(tmp, ']');
	if (!close)
		return cfg_fail(p, p->line, -EINVAL, "section header without ']'");
	*close = '\0';
	rest = cfg_trim(close + 1);
	rest[strcspn(rest, "\r\n")] = '\0';
	if (*rest && *rest != ';' && *rest != '#')
		return cfg_fail(p, p->line, -EINVAL, "text after section header: '%s'", rest);
	s = cfg_trim(tmp);
	if (!strcmp(s, "global")) {
		if (p->included)
			return cfg_fail(p, p->line, -EINVAL,
					"[global] is not allowed in an included file "
					"([target] sections only)");
		if (p->global_line)
			return cfg_fail(p, p->line, -EINVAL,
					"duplicate section [global] (first at line %d)",
					p->global_line);
		p->global_line = p->line;
		p->sec = CFG_SEC_GLOBAL;
		return 1;
	}
	if (!strncmp(s, "target", 6) && (s[6] == ' ' || s[6] == '\t')) {
		if (!cfg_target_begin(p, cfg_trim(s + 6)))
			return 0;
		p->sec = CFG_SEC_TARGET;
		return 1;
	}
	return cfg_fail(p, p->line, -EINVAL,
			"unknown section [%s]: expected [global] or [target NAME]", s);
}

/* inih's reader callback, fgets() semantics. See the comment at the top. */
static char *cfg_line_read(char *str, int num, void *stream)
{
	struct cfg_parse *p = stream;
	const char *s = p->pos, *nl;
	size_t len;

	if (p->err || !*s)
		return NULL;
	nl = strchr(s, '\n');
	len = nl ? (size_t)(nl - s) + 1 : strlen(s);
	p->pos = s + len;
	p->line++;
	if (p->line == 1 && len >= 3 && !memcmp(s, "\xef\xbb\xbf", 3)) {
		s += 3;
		len -= 3;
	}
	while (len && (*s == ' ' || *s == '\t')) {
		s++;
		len--;
	}
	if (len + 1 > (size_t)num) {
		cfg_fail(p, p->line, -EINVAL, "line too long (at most %d characters)", num - 2);
		return NULL;
	}
	memcpy(str, s, len);
	str[len] = '\0';
	if (*str == '[' && !cfg_section_begin(p, str))
		return NULL;
	return str;
}

static int cfg_key_handle(void *user, const char *section, const char *key, const char *value)
{
	struct cfg_parse *p = user;
	int rc;

	if (p->err)
		return 0;
	switch (p->sec) {
	case CFG_SEC_GLOBAL:
		return cfg_table_set(p, cfg_global_keys, CFG_NGLOBAL, p->gline, p->cfg, key, value);
	case CFG_SEC_TARGET:
		rc = cfg_lun_key_set(p, key, value);
		if (rc >= 0)
			return rc;
		return cfg_table_set(p, cfg_target_keys, CFG_NTARGET, p->tline, p->tgt, key, value);
	case CFG_SEC_NONE:
		break;
	}
	return cfg_fail(p, p->line, -EINVAL, "key '%s' outside of any section", key);
}

/* The sections of one file, the main one or an included one. \return 1 or
 * 0 after cfg_fail(). */
static int cfg_stream_parse(struct cfg_parse *p, const char *text)
{
	int rc;

	p->pos = text;
	rc = ini_parse_stream(cfg_line_read, p, cfg_key_handle, p);
	if (rc < 0)
		return cfg_fail(p, 0, -ENOMEM, "out of memory");
	/* inih reports its own syntax errors only by line number. */
	if (rc > 0 && !p->err)
		return cfg_fail(p, rc, -EINVAL, "syntax error: expected [section] or key = value");
	if (p->err)
		return 0;
	if (p->tgt && !cfg_target_finish(p))
		return 0;
	return 1;
}

/* Read a whole config file. \return 0 and *text (free it), or -errno with
 * "PATH: reason" in err. */
static int cfg_file_read(const char *path, char **text, char *err, size_t errlen)
{
	char *buf = NULL;
	struct stat st;
	ssize_t n;
	size_t got = 0;
	int fd, rc;

	*text = NULL;
	/* O_NONBLOCK: opening a FIFO named by a config or an include must not
	 * hang the daemon (a SIGHUP reload runs in its loop); only regular
	 * files are read, below, and O_NONBLOCK does not change how they are. */
	fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK | O_NOCTTY);
	if (fd < 0 || fstat(fd, &st)) {
		rc = -errno;
		goto fail;
	}
	if (!S_ISREG(st.st_mode)) {
		rc = -EINVAL;
		snprintf(err, errlen, "%s: not a regular file", path);
		goto out;
	}
	if (st.st_size > CFG_MAX_FILE) {
		rc = -EFBIG;
		snprintf(err, errlen, "%s: larger than %d bytes", path, CFG_MAX_FILE);
		goto out;
	}
	buf = calloc(1, (size_t)st.st_size + 1);
	if (!buf) {
		rc = -ENOMEM;
		goto fail;
	}
	while (got < (size_t)st.st_size) {
		n = read(fd, buf + got, (size_t)st.st_size - got);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			rc = -errno;
			goto fail;
		}
		if (n == 0)
			break;
		got += (size_t)n;
	}
	if (strlen(buf) != got) {
		rc = -EINVAL;
		snprintf(err, errlen, "%s: contains a NUL byte", path);
		goto out;
	}
	*text = buf;
	buf = NULL;
	rc = 0;
	goto out;
fail:
	snprintf(err, errlen, "%s: %s", path, strerror(-rc));
out:
	if (fd >= 0)
		close(fd);
	free(buf);
	return rc;
}

/* Parse one included file into p->cfg: its own name and line numbers in
 * messages, [target] sections only. \return 1 or 0 after cfg_fail(). */
static int cfg_include_file(struct cfg_parse *p, const char *path)
{
	struct cfg_parse *sub = NULL;
	char *text = NULL, why[PATH_MAX + 128];
	int rc, ok = 0;

	rc = cfg_file_read(path, &text, why, sizeof(why));
	if (rc) {
		cfg_fail(p, p->line, rc, "include: %s", why);
		goto out;
	}
	sub = calloc(1, sizeof(*sub));
	if (!sub) {
		cfg_fail_nomem(p);
		goto out;
	}
	sub->cfg = p->cfg;
	sub->name = path;
	sub->errbuf = p->errbuf;
	sub->errlen = p->errlen;
	sub->included = true;
	ok = cfg_stream_parse(sub, text);
	/* The included file wrote its own "FILE:LINE: reason". */
	if (!ok)
		p->err = sub->err ? sub->err : -EINVAL;
out:
	free(sub);
	free(text);
	return ok;
}

static int cfg_include_filter(const struct dirent *de)
{
	size_t len = strlen(de->d_name);

	/* Hidden names are editors' and hatgtadm's temporary files. */
	return de->d_name[0] != '.' && len > 5 && !strcmp(de->d_name + len - 5, ".conf");
}

/* Byte order, not the locale's: both cluster nodes must read the files in
 * the same order. */
static int cfg_include_cmp(const struct dirent **a, const struct dirent **b)
{
	return strcmp((*a)->d_name, (*b)->d_name);
}

/* include = PATH: a file, or every *.conf in a directory, in name order. */
static int cfg_include_add(struct cfg_parse *p, const char *value)
{
	struct hatgt_config *cfg = p->cfg;
	struct dirent **names = NULL;
	char path[PATH_MAX];
	struct stat st;
	char **v;
	int i, n = 0, ok = 0;

	if (value[0] != '/')
		return cfg_fail(p, p->line, -EINVAL, "include: '%s' is not an absolute path",
				value);
	if (strlen(value) >= PATH_MAX - NAME_MAX - 2)
		return cfg_fail(p, p->line, -EINVAL, "include: path too long");
	for (i = 0; i < (int)cfg->nincludes; i++)
		if (!strcmp(cfg->includes[i], value))
			return cfg_fail(p, p->line, -EINVAL, "include: %s named twice", value);
	v = realloc(cfg->includes, (cfg->nincludes + 1) * sizeof(*v));
	if (!v)
		return cfg_fail_nomem(p);
	cfg->includes = v;
	v[cfg->nincludes] = strdup(value);
	if (!v[cfg->nincludes])
		return cfg_fail_nomem(p);
	cfg->nincludes++;
	if (stat(value, &st))
		return cfg_fail(p, p->line, -errno, "include: %s: %s", value, strerror(errno));
	if (!S_ISDIR(st.st_mode))
		return cfg_include_file(p, value);
	n = scandir(value, &names, cfg_include_filter, cfg_include_cmp);
	if (n < 0)
		return cfg_fail(p, p->line, -errno, "include: %s: %s", value, strerror(errno));
	for (i = 0; i < n; i++) {
		snprintf(path, sizeof(path), "%s/%s", value, names[i]->d_name);
		if (!cfg_include_file(p, path))
			goto out;
	}
	ok = 1;
out:
	for (i = 0; i < n; i++)
		free(names[i]);
	free(names);
	return ok;
}

static int cfg_text_parse(struct cfg_parse *p, const char *text)
{
	struct hatgt_config *cfg = p->cfg;

	if (!cfg_stream_parse(p, text))
		return 0;
	if (!cfg_auth_check(p, &cfg->discovery_auth, p->gline, "discovery_"))
		return 0;
	if (cfg->nportals == 0) {
		p->line = 0;
		if (!cfg_listen_add(p, "127.0.0.1:3260"))
			return 0;
	}
	return 1;
}

int hatgt_config_parse_string(const char *text, const char *name, struct hatgt_config **out,
			      char *err, size_t errlen)
{
	struct cfg_parse *p = NULL;
	struct hatgt_config *cfg = NULL;
	int rc = -ENOMEM;

	*out = NULL;
	if (err && errlen)
		err[0] = '\0';
	if (!name)
		name = "<embedded>";
	p = calloc(1, sizeof(*p));
	cfg = calloc(1, sizeof(*cfg));
	if (!p || !cfg || cfg_defaults_set(cfg, name)) {
		if (err && errlen)
			snprintf(err, errlen, "%s: out of memory", name);
		goto out;
	}
	p->cfg = cfg;
	p->name = name;
	p->errbuf = err;
	p->errlen = errlen;
	if (!cfg_text_parse(p, text)) {
		rc = p->err;
		goto out;
	}
	*out = cfg;
	cfg = NULL;
	rc = 0;
out:
	hatgt_config_free(cfg);
	free(p);
	return rc;
}

int hatgt_config_load(const char *path, struct hatgt_config **out, char *err, size_t errlen)
{
	char *text = NULL;
	int rc;

	*out = NULL;
	rc = cfg_file_read(path, &text, err, errlen);
	if (!rc)
		rc = hatgt_config_parse_string(text, path, out, err, errlen);
	free(text);
	return rc;
}
