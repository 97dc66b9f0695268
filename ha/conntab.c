/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Connection hint table; see conntab.h. A plain array, oldest first: a
 * promoted member serves at most a few thousand connections, and entries
 * change once per login or logout, so linear scans cost nothing that
 * matters.
 */
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "ha/conntab.h"

struct conntab {
	struct conntab_entry *e;
	size_t n;
	size_t max;
};

struct conntab *conntab_create(size_t max)
{
	struct conntab *t;

	if (max == 0)
		return NULL;
	t = calloc(1, sizeof(*t));
	if (!t)
		return NULL;
	t->e = calloc(max, sizeof(*t->e));
	if (!t->e) {
		free(t);
		return NULL;
	}
	t->max = max;
	return t;
}

void conntab_destroy(struct conntab *t)
{
	if (!t)
		return;
	free(t->e);
	free(t);
}

static void conntab_remove_at(struct conntab *t, size_t i)
{
	memmove(&t->e[i], &t->e[i + 1], (t->n - i - 1) * sizeof(*t->e));
	t->n--;
}

static size_t conntab_find(const struct conntab *t, uint32_t nodeid, uint32_t pid,
			   const struct repl_conn *c)
{
	size_t i;

	for (i = 0; i < t->n; i++)
		if (t->e[i].nodeid == nodeid && t->e[i].pid == pid &&
		    repl_conn_equal(&t->e[i].conn, c))
			return i;
	return t->n;
}

size_t conntab_add(struct conntab *t, uint32_t nodeid, uint32_t pid, uint64_t epoch,
		   const struct repl_conn *c)
{
	size_t i = conntab_find(t, nodeid, pid, c), dropped = 0;

	if (i < t->n) {
		t->e[i].epoch = epoch;
		return 0;
	}
	if (t->n == t->max) {
		conntab_remove_at(t, 0);
		dropped = 1;
	}
	t->e[t->n].conn = *c;
	t->e[t->n].nodeid = nodeid;
	t->e[t->n].pid = pid;
	t->e[t->n].epoch = epoch;
	t->n++;
	return dropped;
}

size_t conntab_del(struct conntab *t, uint32_t nodeid, uint32_t pid, const struct repl_conn *c)
{
	size_t i = conntab_find(t, nodeid, pid, c);

	if (i == t->n)
		return 0;
	conntab_remove_at(t, i);
	return 1;
}

struct conntab_match {
	uint32_t nodeid;
	uint32_t pid;
	uint64_t epoch; /* 0: match by origin, else: entries before this epoch */
};

static bool conntab_matches(const struct conntab_entry *e, const struct conntab_match *m)
{
	if (m->epoch)
		return e->epoch < m->epoch;
	return e->nodeid == m->nodeid && e->pid == m->pid;
}

/* Remove the matching entries, keeping the others in order. */
static size_t conntab_remove_matching(struct conntab *t, const struct conntab_match *m)
{
	size_t i, kept = 0, old = t->n;

	for (i = 0; i < t->n; i++)
		if (!conntab_matches(&t->e[i], m))
			t->e[kept++] = t->e[i];
	t->n = kept;
	return old - kept;
}

size_t conntab_clear_origin(struct conntab *t, uint32_t nodeid, uint32_t pid)
{
	const struct conntab_match m = {.nodeid = nodeid, .pid = pid};

	return conntab_remove_matching(t, &m);
}

size_t conntab_expire(struct conntab *t, uint64_t epoch)
{
	const struct conntab_match m = {.epoch = epoch};

	return epoch ? conntab_remove_matching(t, &m) : 0;
}

size_t conntab_count(const struct conntab *t)
{
	return t->n;
}

const struct conntab_entry *conntab_at(const struct conntab *t, size_t i)
{
	return i < t->n ? &t->e[i] : NULL;
}
