/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * hatgtadm: send a command line to hatgtd over the admin channel, print the
 * reply (stdout on success, stderr otherwise) and exit with its status.
 */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "admin/admin.h"

#define HATGTADM_DEFAULT_TIMEOUT_MS 30000

static void hatgtadm_usage_print(FILE *f)
{
	fprintf(f,
		"Usage: hatgtadm [-s NAME] [--json] [--timeout MS] VERB [ARGS...]\n"
		"\n"
		"Send a command to the running hatgtd and print its reply.\n"
		"\n"
		"  -s, --service NAME  admin service name (admin_name in hatgt.conf,\n"
		"                      default \"%s\")\n"
		"  -j, --json          ask for JSON output\n"
		"  -t, --timeout MS    wait at most MS milliseconds for the reply\n"
		"                      (default %d; 0: wait forever)\n"
		"  -h, --help          show this help\n"
		"  -V, --version       show the version of hatgtadm\n"
		"\n"
		"Verbs: status, role, targets, luns [TARGET], sessions, pr TARGET LUN,\n"
		"add-target IQN, remove-target IQN, add-lun TARGET LUN PATH [OPTIONS],\n"
		"remove-lun TARGET LUN, resize-lun TARGET LUN [SIZE], reload,\n"
		"log-level LEVEL, promote, demote,\n"
		"clone GOLDEN COUNT [prefix=NAME] [dir=DIR] [initiator=PATTERN] [start=N]\n"
		"      [iqn=IQN] [conf=DIR]   (one qcow2 overlay and target per client),\n"
		"remove-clones NAME [iqn=IQN] [conf=DIR] [delete-overlays].\n"
		"\"hatgtadm help\" asks the running hatgtd for the verbs and their\n"
		"arguments; hatgtadm(8) describes them.\n"
		"\n"
		"Exit status: 0 success, 1 command failed, 2 usage error,\n"
		"3 not found, 4 hatgtd unreachable.\n",
		HATGT_ADMIN_DEFAULT_NAME, HATGTADM_DEFAULT_TIMEOUT_MS);
}

static int hatgtadm_timeout_parse(const char *s, int *out)
{
	unsigned long v;
	char *end;

	if (*s < '0' || *s > '9')
		return -EINVAL;
	errno = 0;
	v = strtoul(s, &end, 10);
	if (errno || *end || v > 24UL * 3600 * 1000)
		return -ERANGE;
	*out = (int)v;
	return 0;
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{"service", required_argument, NULL, 's'}, {"json", no_argument, NULL, 'j'},
		{"timeout", required_argument, NULL, 't'}, {"help", no_argument, NULL, 'h'},
		{"version", no_argument, NULL, 'V'},	   {NULL, 0, NULL, 0},
	};
	const char *name = HATGT_ADMIN_DEFAULT_NAME;
	int timeout_ms = HATGTADM_DEFAULT_TIMEOUT_MS;
	unsigned int flags = 0;
	struct buf reply = BUF_INIT;
	int c, status;

	/* "+": stop at the verb, so its own options reach the daemon. */
	while ((c = getopt_long(argc, argv, "+s:jt:hV", opts, NULL)) != -1) {
		switch (c) {
		case 's':
			name = optarg;
			break;
		case 'j':
			flags |= HATGT_ADMIN_F_JSON;
			break;
		case 't':
			if (hatgtadm_timeout_parse(optarg, &timeout_ms)) {
				fprintf(stderr, "hatgtadm: bad --timeout '%s': milliseconds\n",
					optarg);
				return HATGT_ADMIN_USAGE;
			}
			break;
		case 'h':
			hatgtadm_usage_print(stdout);
			return HATGT_ADMIN_OK;
		case 'V':
			printf("hatgtadm %s\n", PACKAGE_VERSION);
			return HATGT_ADMIN_OK;
		default:
			hatgtadm_usage_print(stderr);
			return HATGT_ADMIN_USAGE;
		}
	}
	if (optind >= argc) {
		hatgtadm_usage_print(stderr);
		return HATGT_ADMIN_USAGE;
	}
	status = admin_client_call_flags(name, argc - optind, argv + optind, flags, timeout_ms,
					 &reply);
	if (reply.len)
		fwrite(reply.data, 1, reply.len, status == HATGT_ADMIN_OK ? stdout : stderr);
	buf_release(&reply);
	if (fflush(stdout) && status == HATGT_ADMIN_OK)
		status = HATGT_ADMIN_ERR;
	return status;
}
