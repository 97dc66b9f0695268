/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * hatgt.conf: INI syntax, parsed with inih. The result is plain data; the
 * daemon turns it into targets and LUs (daemon/target.c). Parsing is pure:
 * no globals, so SIGHUP can parse a new config next to the running one and
 * the two can be compared.
 *
 * Example:
 *   [global]
 *   listen = 127.0.0.1:3260, [::1]:3260
 *   state_dir = /var/lib/hatgt
 *   cluster = none
 *   include = /etc/hatgt/conf.d
 *
 *   [target iqn.2026-11.org.example:disk1]
 *   lun0 = /var/lib/hatgt/disk1.img
 *   lun0_size = 1G
 *   allow = iqn.1993-08.org.debian:01:host1
 */
#ifndef HATGT_CONFIG_H
#define HATGT_CONFIG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

#include "iscsi/login.h"

#define HATGT_MAX_LUNS 256
#define HATGT_MAX_PORTALS 16

enum hatgt_cluster_mode {
	HATGT_CLUSTER_NONE = 0,
	HATGT_CLUSTER_COROSYNC,
};

/* demote_connections: what a demotion does with logged-in connections
 * (docs/ha.md "Planned failover"). */
enum hatgt_demote_mode {
	HATGT_DEMOTE_PARK = 0, /* keep them open and silent; the new node tickles them */
	HATGT_DEMOTE_LOGOUT,   /* ask for a logout (RFC 7143 AsyncEvent 1), then close */
};

/* poll_us = auto */
#define HATGT_POLL_AUTO UINT32_MAX

struct hatgt_portal {
	struct sockaddr_storage addr;
	socklen_t addr_len;
	char text[80]; /* as written in SendTargets: "127.0.0.1:3260" or "[::1]:3260" */
};

struct hatgt_lun_cfg {
	uint32_t lun;
	char *path;
	uint64_t size; /* lunN_size: create a sparse file of this size if missing; 0: not set */
	bool readonly; /* lunN_readonly = yes */
	uint32_t block_size; /* lunN_block_size = 512|4096; default 512 */
	/* lunN_physical_block_size: a power of two multiple of block_size, at
	 * most 1 MiB; 0: not set (the block size). */
	uint32_t physical_block_size;
	bool removable; /* lunN_removable = yes: ejectable medium (INQUIRY RMB) */
	/* lunN_encryption_key_file = PATH: encrypted at rest; NULL: plain. */
	char *key_file;
	char serial[33]; /* derived unless lunN_serial is given */
	uint8_t naa[16]; /* derived NAA 6 designator unless lunN_naa is given */
	uint8_t naa_len;
};

struct hatgt_target_cfg {
	char *name;
	char *alias;
	struct hatgt_lun_cfg *luns; /* sorted by lun number */
	size_t nluns;
	char **allow; /* initiator names; nallow == 0: any initiator */
	size_t nallow;
	struct iscsi_auth_cfg auth; /* chap_user/chap_secret, mutual_user/mutual_secret */
	uint16_t tpgt;		    /* default 1 */
	uint16_t rtpi;		    /* relative target port id, default 1 */
};

struct hatgt_config {
	char *path; /* the file this came from, or "<embedded>" */
	struct hatgt_portal portals[HATGT_MAX_PORTALS];
	size_t nportals;
	char *state_dir;  /* default /var/lib/hatgt */
	char *pid_file;	  /* default: none */
	char *admin_name; /* libqb IPC service name, default "hatgt" */
	char *log_level;  /* error|warning|notice|info|debug, default notice */
	enum hatgt_cluster_mode cluster;
	/* demote_connections = park (default) | logout */
	enum hatgt_demote_mode demote_connections;
	struct iscsi_auth_cfg discovery_auth; /* discovery_chap_user/_secret ... */
	char vendor[9];			      /* default "HATGT" */
	char product[17];		      /* default "VIRTUAL-DISK" */
	uint32_t max_sessions;		      /* global limit, default 1024 */
	/* Resource limits (docs/limits.md): connections in all, logged in
	 * or not (default 1024); connections from one initiator IP address
	 * (64; with one connection per session this also bounds its
	 * sessions); sessions logged in to one target (256); commands
	 * outstanding on one session, immediate ones included (128); write
	 * buffers of one connection, in MiB (64). */
	uint32_t max_connections;
	uint32_t max_connections_per_address;
	uint32_t max_sessions_per_target;
	uint32_t max_commands_per_session;
	uint32_t max_connection_memory_mb;
	uint32_t login_timeout; /* seconds, default 15 */
	/* poll_us: after socket activity, keep polling (epoll_wait with no
	 * timeout) for this many microseconds before sleeping; 0: off;
	 * HATGT_POLL_AUTO ("auto", the default): only while initiators wait
	 * for us at low queue depth (docs/tuning.md). */
	uint32_t poll_us;
	uint32_t nop_interval; /* seconds between target NOP-In pings, default 5, 0: off */
	uint32_t nop_timeout;  /* seconds without answer before dropping, default 30 */
	struct hatgt_target_cfg *targets;
	size_t ntargets;
	/* include = PATH in [global], repeatable: a file, or a directory whose
	 * *.conf files are read in name order. They may hold [target] sections
	 * only; their targets are in targets[] like the others. As written. */
	char **includes;
	size_t nincludes;
};

/** Parse a config file.
 * \return 0 and *out (free with hatgt_config_free()), or -errno with a
 * one-line reason in err: "FILE:LINE: reason". */
int hatgt_config_load(const char *path, struct hatgt_config **out, char *err, size_t errlen);
/** The same for text in memory; name is used in messages. */
int hatgt_config_parse_string(const char *text, const char *name, struct hatgt_config **out,
			      char *err, size_t errlen);
/** Accepts NULL. Wipes secrets. */
void hatgt_config_free(struct hatgt_config *cfg);

/** Find a target by name. \return NULL if absent. */
const struct hatgt_target_cfg *hatgt_config_target(const struct hatgt_config *cfg,
						   const char *name);
/** Parse a size with an optional K/M/G/T suffix (powers of 1024).
 * \return 0 or -EINVAL/-ERANGE. */
int hatgt_parse_size(const char *s, uint64_t *out);

/** The embedded default: one sparse 1 GiB file LUN on 127.0.0.1:3260 under
 * state_dir. Used by the quick start. */
extern const char hatgt_config_default[];

/** Check an iSCSI name (RFC 7143 section 4.2.7: iqn., eui. or naa. format,
 * at most 223 bytes, a-z 0-9 '-' '.' ':' after mapping ASCII to lower case)
 * and write its normal (lower-case) form to out.
 * \param why if not NULL, set to a static reason on failure.
 * \return 0 or -EINVAL. */
int hatgt_iscsi_name_normalize(const char *in, char *out, size_t outlen, const char **why);

/** The identity a LUN gets when lunN_serial / lunN_naa are not set:
 * SHA-256 over target name, a NUL byte and the LUN number (big-endian
 * 32 bits); serial = first 8 hash bytes as 16 upper-case hex digits, naa = an
 * 8-byte NAA 3 (locally assigned) designator from the next 60 bits. Both
 * nodes of a cluster derive the same values from the same config. Use the
 * normal form of the name (see hatgt_iscsi_name_normalize()).
 * \return 0, -EINVAL (name too long) or -ENOMEM. */
int hatgt_config_lun_identity(const char *target, uint32_t lun, char serial[33], uint8_t naa[16],
			      uint8_t *naa_len);

#endif
