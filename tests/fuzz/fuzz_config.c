/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The config parser: hatgt_config_parse_string() over arbitrary text (the
 * input, NUL-terminated). A config comes from the administrator, not the
 * network, but SIGHUP re-reads it in a running daemon, so it must never
 * crash or leak either.
 */
#include <errno.h>
#include <string.h>

#include "config.h"
#include "fuzz_common.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct hatgt_config *cfg = NULL;
	char err[256];
	char *text;
	size_t i;
	int rc;

	text = malloc(size + 1);
	if (!text)
		return 0;
	memcpy(text, data, size);
	text[size] = '\0';
	memset(err, 'x', sizeof(err));
	rc = hatgt_config_parse_string(text, "fuzz.conf", &cfg, err, sizeof(err));
	FUZZ_CHECK(memchr(err, '\0', sizeof(err)) != NULL);
	if (rc == 0) {
		FUZZ_CHECK(cfg != NULL);
		FUZZ_CHECK(cfg->nportals <= HATGT_MAX_PORTALS);
		for (i = 0; i < cfg->ntargets; i++) {
			FUZZ_CHECK(hatgt_config_target(cfg, cfg->targets[i].name) != NULL);
			FUZZ_CHECK(cfg->targets[i].nluns <= HATGT_MAX_LUNS);
		}
	} else {
		FUZZ_CHECK(cfg == NULL);
		FUZZ_CHECK(rc < 0);
		/* One line saying where and why ("NAME:LINE: reason"). NAME is
		 * the config's, or an included file's: `include = /DIR` reads
		 * the machine's real *.conf files (e.g. /etc's), whose own
		 * errors name them; what is on the machine must not decide
		 * whether the fuzzer reports a crash. */
		FUZZ_CHECK(strncmp(err, "fuzz.conf:", 10) == 0 || err[0] == '/');
		FUZZ_CHECK(strchr(err, '\n') == NULL);
	}
	hatgt_config_free(cfg);
	free(text);
	return 0;
}
