/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The connection hint table (docs/replication.md "Connection hints"): the
 * iSCSI connections a promoted member announced (REPL_CONNS), each with
 * the member that announced it and its serving epoch. Pure: libc only.
 *
 * Bounded: at most \p max entries; adding to a full table drops the oldest
 * entry. Entries are kept oldest first.
 */
#ifndef HATGT_HA_CONNTAB_H
#define HATGT_HA_CONNTAB_H

#include <stddef.h>
#include <stdint.h>

#include "ha/repl_msg.h"

struct conntab_entry {
	struct repl_conn conn;
	uint32_t nodeid; /* the member that announced it */
	uint32_t pid;
	uint64_t epoch; /* its serving epoch */
};

struct conntab;

/** \return NULL on ENOMEM or when max is 0. */
struct conntab *conntab_create(size_t max);
/** Accepts NULL. */
void conntab_destroy(struct conntab *t);

/** Add (or, when already there from the same member, refresh the epoch of)
 * a connection. \return the number of entries dropped to make room (0 or
 * 1). */
size_t conntab_add(struct conntab *t, uint32_t nodeid, uint32_t pid, uint64_t epoch,
		   const struct repl_conn *c);
/** Remove a connection announced by that member. \return 1 if removed, else 0. */
size_t conntab_del(struct conntab *t, uint32_t nodeid, uint32_t pid, const struct repl_conn *c);
/** Remove everything that member announced. \return how many. */
size_t conntab_clear_origin(struct conntab *t, uint32_t nodeid, uint32_t pid);
/** Remove every entry of an epoch before \p epoch (it has ended). \return how many. */
size_t conntab_expire(struct conntab *t, uint64_t epoch);

size_t conntab_count(const struct conntab *t);
/** Entry \p i, 0 = the oldest; NULL past the end. */
const struct conntab_entry *conntab_at(const struct conntab *t, size_t i);

#endif
