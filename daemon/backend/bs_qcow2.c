/* SPDX-License-Identifier: GPL-2.0-or-later */
/* qcow2 images with backing chains. Placeholder until the store lands. */
#include <errno.h>

#include "backend/backend_int.h"

static int qcow2_open(struct backend_engine *eng, const struct backend_config *cfg,
		      struct backend **out)
{
	(void)eng;
	(void)cfg;
	(void)out;
	return -EOPNOTSUPP;
}

const struct backend_ops backend_qcow2_ops = {
	.name = "qcow2",
	.open = qcow2_open,
};
