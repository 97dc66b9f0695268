/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Encryption at rest over another store. Placeholder until the layer lands. */
#include <errno.h>

#include "backend/backend_int.h"

int backend_crypt_wrap(struct backend_engine *eng, const struct backend_config *cfg,
		       struct backend *inner, struct backend **out)
{
	(void)eng;
	(void)cfg;
	(void)out;
	backend_close(inner);
	return -EOPNOTSUPP;
}
