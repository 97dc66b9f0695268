/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * hatgt.conf parsing (daemon/config.c). Every rule has a test that feeds a
 * small config and checks the "FILE:LINE: reason" message.
 */
#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/stat.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <cmocka.h>

#include "daemon/config.h"

/* Allocation failure injection: the Nth allocation from here on fails. */
static int alloc_countdown = -1;

void *__real_calloc(size_t n, size_t size);
void *__real_realloc(void *p, size_t size);
char *__real_strdup(const char *s);

static int alloc_should_fail(void)
{
	if (alloc_countdown < 0)
		return 0;
	return alloc_countdown-- == 0;
}

void *__wrap_calloc(size_t n, size_t size)
{
	return alloc_should_fail() ? NULL : __real_calloc(n, size);
}

void *__wrap_realloc(void *p, size_t size)
{
	return alloc_should_fail() ? NULL : __real_realloc(p, size);
}

char *__wrap_strdup(const char *s)
{
	return alloc_should_fail() ? NULL : __real_strdup(s);
}

static char err[512];

static struct hatgt_config *parse_ok(const char *text)
{
	struct hatgt_config *cfg = NULL;
	int rc = hatgt_config_parse_string(text, "t.conf", &cfg, err, sizeof(err));

	if (rc)
		print_error("unexpected error: %s\n", err);
	assert_int_equal(rc, 0);
	assert_non_null(cfg);
	return cfg;
}

/* Parse must fail; the message must start with prefix and contain what. */
static void parse_fails(const char *text, const char *prefix, const char *what)
{
	struct hatgt_config *cfg = (void *)1;
	int rc = hatgt_config_parse_string(text, "t.conf", &cfg, err, sizeof(err));

	assert_true(rc < 0);
	assert_null(cfg);
	if (strncmp(err, prefix, strlen(prefix)) || !strstr(err, what))
		print_error("message was: %s\n", err);
	assert_int_equal(strncmp(err, prefix, strlen(prefix)), 0);
	assert_non_null(strstr(err, what));
}

#define TGT "[target iqn.2026-11.org.example:disk1]\n"

static void embedded_default_parses(void **state)
{
	struct hatgt_config *cfg = parse_ok(hatgt_config_default);

	assert_int_equal(cfg->nportals, 1);
	assert_string_equal(cfg->portals[0].text, "127.0.0.1:3260");
	assert_string_equal(cfg->state_dir, "/var/lib/hatgt");
	assert_int_equal(cfg->ntargets, 1);
	assert_string_equal(cfg->targets[0].name, "iqn.2026-11.org.hatgt:default");
	assert_int_equal(cfg->targets[0].nluns, 1);
	assert_string_equal(cfg->targets[0].luns[0].path, "/var/lib/hatgt/default.img");
	assert_int_equal(cfg->targets[0].luns[0].size, 1ULL << 30);
	hatgt_config_free(cfg);
}

static void defaults_apply_when_keys_absent(void **state)
{
	struct hatgt_config *cfg = parse_ok("[global]\n");

	assert_int_equal(cfg->nportals, 1);
	assert_string_equal(cfg->portals[0].text, "127.0.0.1:3260");
	assert_string_equal(cfg->admin_name, "hatgt");
	assert_string_equal(cfg->log_level, "notice");
	assert_string_equal(cfg->vendor, "HATGT");
	assert_string_equal(cfg->product, "VIRTUAL-DISK");
	assert_null(cfg->pid_file);
	assert_int_equal(cfg->cluster, HATGT_CLUSTER_NONE);
	assert_int_equal(cfg->max_sessions, 1024);
	assert_int_equal(cfg->login_timeout, 15);
	assert_int_equal(cfg->nop_interval, 5);
	assert_int_equal(cfg->nop_timeout, 30);
	assert_int_equal(cfg->poll_us, HATGT_POLL_AUTO);
	assert_int_equal(cfg->demote_connections, HATGT_DEMOTE_PARK);
	assert_int_equal(cfg->ntargets, 0);
	hatgt_config_free(cfg);
}

static void every_global_key_is_stored(void **state)
{
	struct hatgt_config *cfg = parse_ok("[global]\n"
					    "state_dir = /srv/hatgt\n"
					    "pid_file = /run/hatgtd.pid\n"
					    "admin_name = hatgt-test_1\n"
					    "log_level = debug\n"
					    "cluster = corosync\n"
					    "vendor = ACME\n"
					    "product = SUPER DISK 16CHR\n"
					    "max_sessions = 7\n"
					    "login_timeout = 60\n"
					    "nop_interval = 0\n"
					    "nop_timeout = 9\n"
					    "discovery_chap_user = disc\n"
					    "discovery_chap_secret = 0123456789ab\n"
					    "discovery_mutual_user = tgt\n"
					    "discovery_mutual_secret = ba9876543210\n");

	assert_string_equal(cfg->state_dir, "/srv/hatgt");
	assert_string_equal(cfg->pid_file, "/run/hatgtd.pid");
	assert_string_equal(cfg->admin_name, "hatgt-test_1");
	assert_string_equal(cfg->log_level, "debug");
	assert_int_equal(cfg->cluster, HATGT_CLUSTER_COROSYNC);
	assert_string_equal(cfg->vendor, "ACME");
	assert_string_equal(cfg->product, "SUPER DISK 16CHR");
	assert_int_equal(cfg->max_sessions, 7);
	assert_int_equal(cfg->login_timeout, 60);
	assert_int_equal(cfg->nop_interval, 0);
	assert_int_equal(cfg->nop_timeout, 9);
	assert_string_equal(cfg->discovery_auth.chap.user, "disc");
	assert_string_equal(cfg->discovery_auth.chap.secret, "0123456789ab");
	assert_string_equal(cfg->discovery_auth.mutual.user, "tgt");
	assert_string_equal(cfg->discovery_auth.mutual.secret, "ba9876543210");
	hatgt_config_free(cfg);
}

static void every_target_key_is_stored(void **state)
{
	struct hatgt_config *cfg = parse_ok(TGT "alias = First disk\n"
						"lun3 = /dev/sdb\n"
						"lun3_readonly = yes\n"
						"lun3_block_size = 4096\n"
						"lun3_physical_block_size = 16384\n"
						"lun3_removable = yes\n"
						"lun3_size = 8K\n"
						"lun3_serial = SER-1\n"
						"lun3_naa = 600140501234567890abcdef01234567\n"
						"allow = iqn.1993-08.org.debian:01:host1\n"
						"chap_user = alice\n"
						"chap_secret = 0123456789ab\n"
						"mutual_user = target\n"
						"mutual_secret = 0123456789abc\n"
						"tpgt = 7\n"
						"rtpi = 9\n");
	const struct hatgt_target_cfg *t = &cfg->targets[0];
	static const uint8_t naa[16] = {0x60, 0x01, 0x40, 0x50, 0x12, 0x34, 0x56, 0x78,
					0x90, 0xab, 0xcd, 0xef, 0x01, 0x23, 0x45, 0x67};

	assert_string_equal(t->alias, "First disk");
	assert_int_equal(t->nluns, 1);
	assert_int_equal(t->luns[0].lun, 3);
	assert_string_equal(t->luns[0].path, "/dev/sdb");
	assert_true(t->luns[0].readonly);
	assert_int_equal(t->luns[0].block_size, 4096);
	assert_int_equal(t->luns[0].physical_block_size, 16384);
	assert_true(t->luns[0].removable);
	assert_int_equal(t->luns[0].size, 8192);
	assert_string_equal(t->luns[0].serial, "SER-1");
	assert_int_equal(t->luns[0].naa_len, 16);
	assert_memory_equal(t->luns[0].naa, naa, 16);
	assert_int_equal(t->nallow, 1);
	assert_string_equal(t->allow[0], "iqn.1993-08.org.debian:01:host1");
	assert_string_equal(t->auth.chap.user, "alice");
	assert_string_equal(t->auth.mutual.secret, "0123456789abc");
	assert_int_equal(t->tpgt, 7);
	assert_int_equal(t->rtpi, 9);
	hatgt_config_free(cfg);
}

static void target_defaults_are_tpgt_1_rtpi_1_any_initiator(void **state)
{
	struct hatgt_config *cfg = parse_ok(TGT "lun0 = /a\n");

	assert_int_equal(cfg->targets[0].tpgt, 1);
	assert_int_equal(cfg->targets[0].rtpi, 1);
	assert_int_equal(cfg->targets[0].nallow, 0);
	assert_int_equal(cfg->targets[0].luns[0].block_size, 512);
	assert_false(cfg->targets[0].luns[0].readonly);
	assert_false(cfg->targets[0].luns[0].removable);
	assert_int_equal(cfg->targets[0].luns[0].physical_block_size, 0);
	hatgt_config_free(cfg);
}

static void example_config_parses(void **state)
{
	struct hatgt_config *cfg = NULL;

	assert_int_equal(hatgt_config_load(HATGT_EXAMPLE_CONF, &cfg, err, sizeof(err)), 0);
	assert_int_equal(cfg->ntargets, 2);
	assert_int_equal(cfg->targets[0].nluns, 2);
	assert_int_equal(cfg->targets[1].nluns, 0);
	hatgt_config_free(cfg);
}

static void missing_file_names_the_file(void **state)
{
	struct hatgt_config *cfg = (void *)1;

	assert_int_equal(hatgt_config_load("/nonexistent/hatgt.conf", &cfg, err, sizeof(err)),
			 -ENOENT);
	assert_null(cfg);
	assert_string_equal(err, "/nonexistent/hatgt.conf: No such file or directory");
}

static void load_reads_a_file_and_names_it_in_errors(void **state)
{
	char path[] = "/tmp/hatgt-config-test-XXXXXX";
	struct hatgt_config *cfg = NULL;
	char want[64];
	int fd = mkstemp(path);

	assert_true(fd >= 0);
	assert_int_equal(write(fd, "[global]\nbogus = 1\n", 19), 19);
	close(fd);
	assert_int_equal(hatgt_config_load(path, &cfg, err, sizeof(err)), -EINVAL);
	snprintf(want, sizeof(want), "%s:2: ", path);
	assert_int_equal(strncmp(err, want, strlen(want)), 0);
	unlink(path);
}

static void file_with_nul_byte_is_rejected(void **state)
{
	char path[] = "/tmp/hatgt-config-test-XXXXXX";
	struct hatgt_config *cfg = NULL;
	int fd = mkstemp(path);

	assert_true(fd >= 0);
	assert_int_equal(write(fd, "[global]\n\0", 10), 10);
	close(fd);
	assert_int_equal(hatgt_config_load(path, &cfg, err, sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, "NUL byte"));
	unlink(path);
}

static void unknown_section_is_rejected(void **state)
{
	parse_fails("[global]\n[globl]\n", "t.conf:2: ", "unknown section [globl]");
}

static void unknown_global_key_is_rejected(void **state)
{
	parse_fails("[global]\nlisten = 127.0.0.1:3260\nlisten_port = 1\n",
		    "t.conf:3: ", "unknown key 'listen_port'");
}

static void unknown_target_key_is_rejected(void **state)
{
	parse_fails(TGT "lun0 = /a\nlun0_sise = 1G\n", "t.conf:3: ", "unknown key 'lun0_sise'");
}

static void key_outside_any_section_is_rejected(void **state)
{
	parse_fails("listen = 127.0.0.1:3260\n", "t.conf:1: ", "outside of any section");
}

static void duplicate_key_is_rejected_naming_the_first(void **state)
{
	parse_fails("[global]\nstate_dir = /a\n\nstate_dir = /b\n",
		    "t.conf:4: ", "duplicate key 'state_dir' (first at line 2)");
}

static void duplicate_lun_key_is_rejected(void **state)
{
	parse_fails(TGT "lun0 = /a\nlun0 = /b\n", "t.conf:3: ", "duplicate key 'lun0'");
}

static void duplicate_global_section_is_rejected(void **state)
{
	parse_fails("[global]\n[global]\n", "t.conf:2: ", "duplicate section [global]");
}

static void line_without_equals_is_a_syntax_error(void **state)
{
	parse_fails("[global]\n; comment\nstate_dir\n", "t.conf:3: ", "syntax error");
}

static void section_without_bracket_is_rejected(void **state)
{
	parse_fails("[global\n", "t.conf:1: ", "without ']'");
}

static void text_after_section_header_is_rejected(void **state)
{
	parse_fails("[global] x\n", "t.conf:1: ", "text after section header");
}

static void line_longer_than_inih_buffer_is_rejected(void **state)
{
	char text[400];

	snprintf(text, sizeof(text), "[global]\npid_file = /%0300d\n", 0);
	parse_fails(text, "t.conf:2: ", "line too long");
}

static void indented_keys_are_keys_not_continuations(void **state)
{
	struct hatgt_config *cfg = parse_ok("[global]\n  state_dir = /a\n  pid_file = /b\n");

	assert_string_equal(cfg->state_dir, "/a");
	assert_string_equal(cfg->pid_file, "/b");
	hatgt_config_free(cfg);
}

static void comments_and_byte_order_mark_are_ignored(void **state)
{
	struct hatgt_config *cfg = parse_ok("\xef\xbb\xbf[global] ; main\n"
					    "# full line\n"
					    "state_dir = /a ; inline\n");

	assert_string_equal(cfg->state_dir, "/a");
	hatgt_config_free(cfg);
}

static void non_numeric_value_is_a_bad_number(void **state)
{
	parse_fails("[global]\nmax_sessions = 10x\n", "t.conf:2: ", "'10x' is not a number");
}

static void negative_number_is_a_bad_number(void **state)
{
	parse_fails("[global]\nnop_interval = -1\n", "t.conf:2: ", "is not a number");
}

static void poll_us_auto_is_stored_as_auto(void **state)
{
	struct hatgt_config *cfg = parse_ok("[global]\npoll_us = auto\n");

	assert_int_equal(cfg->poll_us, HATGT_POLL_AUTO);
	hatgt_config_free(cfg);
}

static void poll_us_number_is_stored(void **state)
{
	struct hatgt_config *cfg = parse_ok("[global]\npoll_us = 250\n");

	assert_int_equal(cfg->poll_us, 250);
	hatgt_config_free(cfg);
}

static void poll_us_other_word_is_rejected(void **state)
{
	parse_fails("[global]\npoll_us = always\n",
		    "t.conf:2: ", "'always' is not a number or 'auto'");
}

static void poll_us_above_range_is_rejected(void **state)
{
	parse_fails("[global]\npoll_us = 100001\n", "t.conf:2: ", "out of range 0..100000");
}

static void number_below_range_is_rejected(void **state)
{
	parse_fails("[global]\nlogin_timeout = 0\n", "t.conf:2: ", "out of range 1..3600");
}

static void number_above_range_is_rejected(void **state)
{
	parse_fails("[global]\nmax_sessions = 99999999999999999999999\n",
		    "t.conf:2: ", "out of range");
}

/* ---- resource limits (docs/limits.md) ---------------------------------- */

static void limits_have_safe_defaults(void **state)
{
	struct hatgt_config *cfg = parse_ok("[global]\n");

	assert_int_equal(cfg->max_connections, 1024);
	assert_int_equal(cfg->max_connections_per_address, 64);
	assert_int_equal(cfg->max_sessions_per_target, 256);
	assert_int_equal(cfg->max_commands_per_session, 128);
	assert_int_equal(cfg->max_connection_memory_mb, 64);
	hatgt_config_free(cfg);
}

static void every_limit_key_is_stored(void **state)
{
	struct hatgt_config *cfg = parse_ok("[global]\n"
					    "max_connections = 10\n"
					    "max_connections_per_address = 2\n"
					    "max_sessions_per_target = 3\n"
					    "max_commands_per_session = 4\n"
					    "max_connection_memory_mb = 16\n");

	assert_int_equal(cfg->max_connections, 10);
	assert_int_equal(cfg->max_connections_per_address, 2);
	assert_int_equal(cfg->max_sessions_per_target, 3);
	assert_int_equal(cfg->max_commands_per_session, 4);
	assert_int_equal(cfg->max_connection_memory_mb, 16);
	hatgt_config_free(cfg);
}

static void zero_connections_is_rejected(void **state)
{
	parse_fails("[global]\nmax_connections = 0\n", "t.conf:2: ", "out of range 1..65535");
}

static void zero_connections_per_address_is_rejected(void **state)
{
	parse_fails("[global]\nmax_connections_per_address = 0\n",
		    "t.conf:2: ", "out of range 1..65535");
}

static void zero_sessions_per_target_is_rejected(void **state)
{
	parse_fails("[global]\nmax_sessions_per_target = 0\n",
		    "t.conf:2: ", "out of range 1..65535");
}

static void commands_per_session_above_4096_is_rejected(void **state)
{
	parse_fails("[global]\nmax_commands_per_session = 4097\n",
		    "t.conf:2: ", "out of range 1..4096");
}

/* The largest write (8 MiB) must fit in one connection's buffers. */
static void connection_memory_below_16_mib_is_rejected(void **state)
{
	parse_fails("[global]\nmax_connection_memory_mb = 15\n",
		    "t.conf:2: ", "out of range 16..65536");
}

static void connection_memory_with_suffix_is_a_bad_number(void **state)
{
	parse_fails("[global]\nmax_connection_memory_mb = 64M\n",
		    "t.conf:2: ", "'64M' is not a number");
}

static void limit_key_in_target_section_is_unknown(void **state)
{
	parse_fails(TGT "max_connections = 5\n", "t.conf:2: ", "max_connections");
}

static void rtpi_zero_is_rejected(void **state)
{
	/* SPC-4 section 7.8.6.7: relative target port identifier 0 is reserved. */
	parse_fails(TGT "rtpi = 0\n", "t.conf:2: ", "rtpi: 0 is out of range 1..65535");
}

static void tpgt_above_16_bits_is_rejected(void **state)
{
	parse_fails(TGT "tpgt = 65536\n", "t.conf:2: ", "out of range 0..65535");
}

static void cluster_mode_must_be_none_or_corosync(void **state)
{
	parse_fails("[global]\ncluster = pacemaker\n", "t.conf:2: ", "expected none or corosync");
}

/* docs/ha.md "Planned failover": park (the default) or logout. */
static void demote_connections_park_is_stored(void **state)
{
	/* Accepted (not an unknown key) and the default's value. */
	struct hatgt_config *cfg = parse_ok("[global]\ndemote_connections = park\n");

	assert_int_equal(cfg->demote_connections, HATGT_DEMOTE_PARK);
	hatgt_config_free(cfg);
}

static void demote_connections_logout_is_stored(void **state)
{
	struct hatgt_config *cfg = parse_ok("[global]\ndemote_connections = logout\n");

	assert_int_equal(cfg->demote_connections, HATGT_DEMOTE_LOGOUT);
	hatgt_config_free(cfg);
}

static void demote_connections_must_be_park_or_logout(void **state)
{
	parse_fails("[global]\ndemote_connections = close\n",
		    "t.conf:2: ", "demote_connections: 'close': expected park or logout");
}

static void unknown_log_level_is_rejected(void **state)
{
	parse_fails("[global]\nlog_level = verbose\n", "t.conf:2: ", "log_level: 'verbose'");
}

static void admin_name_with_slash_is_rejected(void **state)
{
	parse_fails("[global]\nadmin_name = a/b\n", "t.conf:2: ", "admin_name");
}

static void relative_state_dir_is_rejected(void **state)
{
	parse_fails("[global]\nstate_dir = var/lib\n", "t.conf:2: ", "not an absolute path");
}

static void vendor_longer_than_8_is_rejected(void **state)
{
	parse_fails("[global]\nvendor = ABCDEFGHI\n", "t.conf:2: ", "vendor: must be 1..8");
}

static void product_longer_than_16_is_rejected(void **state)
{
	parse_fails("[global]\nproduct = 0123456789abcdefg\n",
		    "t.conf:2: ", "product: must be 1..16");
}

static void listen_accepts_ipv4_and_ipv6_lists(void **state)
{
	struct hatgt_config *cfg =
		parse_ok("[global]\nlisten = 10.0.0.1:3261, [::1]:3260,[fe80::1%lo]:9\n");
	const struct sockaddr_in6 *s6 = (const void *)&cfg->portals[1].addr;
	const struct sockaddr_in *s4 = (const void *)&cfg->portals[0].addr;

	assert_int_equal(cfg->nportals, 3);
	assert_string_equal(cfg->portals[0].text, "10.0.0.1:3261");
	assert_int_equal(s4->sin_family, AF_INET);
	assert_int_equal(ntohs(s4->sin_port), 3261);
	assert_string_equal(cfg->portals[1].text, "[::1]:3260");
	assert_int_equal(s6->sin6_family, AF_INET6);
	assert_int_equal(cfg->portals[1].addr_len, sizeof(struct sockaddr_in6));
	assert_string_equal(cfg->portals[2].text, "[fe80::1%lo]:9");
	hatgt_config_free(cfg);
}

static void listen_port_defaults_to_3260(void **state)
{
	struct hatgt_config *cfg = parse_ok("[global]\nlisten = 192.0.2.1, [2001:db8::1]\n");

	assert_string_equal(cfg->portals[0].text, "192.0.2.1:3260");
	assert_string_equal(cfg->portals[1].text, "[2001:db8::1]:3260");
	hatgt_config_free(cfg);
}

static void listen_ipv6_text_is_canonical(void **state)
{
	struct hatgt_config *cfg = parse_ok("[global]\nlisten = [0:0::0001]:3260\n");

	assert_string_equal(cfg->portals[0].text, "[::1]:3260");
	hatgt_config_free(cfg);
}

static void listen_ipv6_without_brackets_is_rejected(void **state)
{
	parse_fails("[global]\nlisten = ::1:3260\n", "t.conf:2: ", "[ADDR]:PORT");
}

static void listen_host_name_is_rejected(void **state)
{
	parse_fails("[global]\nlisten = localhost:3260\n", "t.conf:2: ", "not a numeric IP");
}

static void listen_bad_port_is_rejected(void **state)
{
	parse_fails("[global]\nlisten = 127.0.0.1:65536\n", "t.conf:2: ", "port must be 1..65535");
}

static void listen_empty_element_is_rejected(void **state)
{
	parse_fails("[global]\nlisten = 127.0.0.1:1,,127.0.0.1:2\n",
		    "t.conf:2: ", "empty list element");
}

static void listen_duplicate_portal_is_rejected(void **state)
{
	parse_fails("[global]\nlisten = 127.0.0.1:1, 127.0.0.1:1\n",
		    "t.conf:2: ", "duplicate portal 127.0.0.1:1");
}

static void listen_more_than_16_portals_is_rejected(void **state)
{
	/* 0.0.0.0 keeps 17 portals within inih's line length. */
	parse_fails("[global]\nlisten = 0.0.0.0:1,0.0.0.0:2,0.0.0.0:3,0.0.0.0:4,0.0.0.0:5,"
		    "0.0.0.0:6,0.0.0.0:7,0.0.0.0:8,0.0.0.0:9,0.0.0.0:10,0.0.0.0:11,0.0.0.0:12,"
		    "0.0.0.0:13,0.0.0.0:14,0.0.0.0:15,0.0.0.0:16,0.0.0.0:17\n",
		    "t.conf:2: ", "more than 16 portals");
}

static void target_name_with_unknown_prefix_is_rejected(void **state)
{
	parse_fails("[target foo.2026-11.org.x]\n", "t.conf:1: ", "must start with iqn.");
}

static void target_name_with_underscore_is_rejected(void **state)
{
	parse_fails("[target iqn.2026-11.org.x:a_b]\n", "t.conf:1: ", "may only contain");
}

static void target_name_with_bad_month_is_rejected(void **state)
{
	parse_fails("[target iqn.2026-13.org.x:a]\n", "t.conf:1: ", "month");
}

static void target_name_without_date_is_rejected(void **state)
{
	parse_fails("[target iqn.org.example:a]\n", "t.conf:1: ", "iqn.yyyy-mm");
}

static void eui_name_needs_16_hex_digits(void **state)
{
	parse_fails("[target eui.0123456789ABCDE]\n", "t.conf:1: ", "16 hex digits");
}

static void eui_and_naa_names_are_accepted(void **state)
{
	struct hatgt_config *cfg = parse_ok("[target eui.0123456789ABCDEF]\n"
					    "[target naa.52004567BA64678D]\n"
					    "[target naa.62004567BA64678D0123456789ABCDEF]\n");

	assert_int_equal(cfg->ntargets, 3);
	assert_string_equal(cfg->targets[0].name, "eui.0123456789abcdef");
	hatgt_config_free(cfg);
}

static void target_name_is_normalized_to_lower_case(void **state)
{
	struct hatgt_config *cfg = parse_ok("[target IQN.2026-11.Org.Example:Disk1]\n");

	assert_string_equal(cfg->targets[0].name, "iqn.2026-11.org.example:disk1");
	assert_ptr_equal(hatgt_config_target(cfg, "iqn.2026-11.ORG.example:disk1"),
			 &cfg->targets[0]);
	hatgt_config_free(cfg);
}

static void target_lookup_of_absent_name_is_null(void **state)
{
	struct hatgt_config *cfg = parse_ok(TGT);

	assert_null(hatgt_config_target(cfg, "iqn.2026-11.org.example:disk2"));
	assert_null(hatgt_config_target(NULL, "iqn.2026-11.org.example:disk1"));
	hatgt_config_free(cfg);
}

static void name_longer_than_223_bytes_is_rejected(void **state)
{
	char name[300], out[ISCSI_NAME_MAX];
	const char *why = NULL;

	memset(name, 'a', sizeof(name));
	memcpy(name, "iqn.2026-11.org.x:", 18);
	name[224] = '\0';
	assert_int_equal(hatgt_iscsi_name_normalize(name, out, sizeof(out), &why), -EINVAL);
	assert_non_null(strstr(why, "223"));
	name[223] = '\0';
	assert_int_equal(hatgt_iscsi_name_normalize(name, out, sizeof(out), &why), 0);
}

static void non_ascii_name_is_rejected(void **state)
{
	char out[ISCSI_NAME_MAX];
	const char *why = NULL;

	assert_int_equal(
		hatgt_iscsi_name_normalize("iqn.2026-11.org.x:d\xc3\xa9", out, sizeof(out), &why),
		-EINVAL);
	assert_non_null(strstr(why, "non-ASCII"));
}

static void duplicate_target_is_rejected_after_normalization(void **state)
{
	parse_fails(TGT "lun0 = /a\n[target IQN.2026-11.org.example:DISK1]\n",
		    "t.conf:3: ", "duplicate target iqn.2026-11.org.example:disk1");
}

static void target_without_lun_is_allowed(void **state)
{
	struct hatgt_config *cfg = parse_ok(TGT "[target iqn.2026-11.org.example:disk2]\n");

	assert_int_equal(cfg->ntargets, 2);
	assert_int_equal(cfg->targets[0].nluns, 0);
	assert_int_equal(cfg->targets[1].nluns, 0);
	hatgt_config_free(cfg);
}

static void lun_size_without_lun_is_rejected(void **state)
{
	parse_fails(TGT "lun0 = /a\nlun1_size = 1G\nalias = x\n",
		    "t.conf:3: ", "lun1_* given without lun1 = PATH");
}

static void lun_number_above_255_is_rejected(void **state)
{
	parse_fails(TGT "lun256 = /a\n", "t.conf:2: ", "LUN number must be 0..255");
}

static void lun_number_with_leading_zero_is_rejected(void **state)
{
	parse_fails(TGT "lun01 = /a\n", "t.conf:2: ", "no leading 0");
}

static void lun_relative_path_is_rejected(void **state)
{
	parse_fails(TGT "lun0 = disk.img\n", "t.conf:2: ", "not an absolute path");
}

static void luns_are_sorted_by_number(void **state)
{
	struct hatgt_config *cfg = parse_ok(TGT "lun7 = /c\nlun0 = /a\nlun255 = /d\nlun3 = /b\n");
	const struct hatgt_target_cfg *t = &cfg->targets[0];

	assert_int_equal(t->nluns, 4);
	assert_int_equal(t->luns[0].lun, 0);
	assert_int_equal(t->luns[1].lun, 3);
	assert_int_equal(t->luns[2].lun, 7);
	assert_int_equal(t->luns[3].lun, 255);
	assert_string_equal(t->luns[3].path, "/d");
	hatgt_config_free(cfg);
}

static void lun_size_must_be_multiple_of_block_size(void **state)
{
	parse_fails(TGT "lun0 = /a\nlun0_size = 1000\n",
		    "t.conf:3: ", "not a multiple of the block size 512");
}

static void lun_size_multiple_of_512_but_not_4096_is_rejected_for_4k(void **state)
{
	parse_fails(TGT "lun0 = /a\nlun0_size = 1536\nlun0_block_size = 4096\n",
		    "t.conf:3: ", "block size 4096");
}

static void lun_size_zero_is_rejected(void **state)
{
	parse_fails(TGT "lun0 = /a\nlun0_size = 0\n", "t.conf:3: ", "must not be 0");
}

static void lun_size_with_bad_suffix_is_rejected(void **state)
{
	parse_fails(TGT "lun0 = /a\nlun0_size = 1GB\n", "t.conf:3: ", "is not a size");
}

static void lun_size_too_large_is_rejected(void **state)
{
	parse_fails(TGT "lun0 = /a\nlun0_size = 16777216T\n", "t.conf:3: ", "too large");
}

static void lun_block_size_must_be_512_or_4096(void **state)
{
	parse_fails(TGT "lun0 = /a\nlun0_block_size = 1024\n",
		    "t.conf:3: ", "expected 512 or 4096");
}

static void lun_removable_must_be_boolean(void **state)
{
	parse_fails(TGT "lun0 = /a\nlun0_removable = sometimes\n",
		    "t.conf:3: ", "expected yes or no");
}

static void lun_physical_block_size_must_be_power_of_two(void **state)
{
	parse_fails(TGT "lun0 = /a\nlun0_physical_block_size = 1536\n",
		    "t.conf:3: ", "expected a power of two from 512 to 1048576");
}

static void lun_physical_block_size_over_1m_is_rejected(void **state)
{
	parse_fails(TGT "lun0 = /a\nlun0_physical_block_size = 2097152\n",
		    "t.conf:3: ", "expected a power of two");
}

static void lun_physical_block_size_below_block_size_is_rejected(void **state)
{
	parse_fails(TGT "lun0 = /a\nlun0_physical_block_size = 512\nlun0_block_size = 4096\n",
		    "t.conf:3: ", "smaller than the block size 4096");
}

static void lun_physical_block_size_given_twice_is_rejected(void **state)
{
	parse_fails(TGT "lun0 = /a\nlun0_physical_block_size = 4096\n"
			"lun0_physical_block_size = 8192\n",
		    "t.conf:4: ", "duplicate key");
}

/* The new keys may open a LUN's entry before its path: allocation fails there too. */
static void removable_key_first_under_allocation_failure_is_enomem(void **state)
{
	static const char text[] = TGT "lun4_removable = yes\nlun4_physical_block_size = 4096\n"
				       "lun4 = /a\n";
	struct hatgt_config *cfg = NULL;
	int n, rc = -ENOMEM;

	for (n = 0; n < 50 && rc; n++) {
		alloc_countdown = n;
		err[0] = '\0';
		rc = hatgt_config_parse_string(text, "t.conf", &cfg, err, sizeof(err));
		alloc_countdown = -1;
		if (rc) {
			assert_int_equal(rc, -ENOMEM);
			assert_null(cfg);
		}
	}
	assert_int_equal(rc, 0);
	assert_non_null(cfg);
	if (!cfg)
		return; /* for static analysers: assert_non_null does not return */
	assert_true(cfg->targets[0].luns[0].removable);
	assert_int_equal(cfg->targets[0].luns[0].physical_block_size, 4096);
	hatgt_config_free(cfg);
}

static void lun_readonly_must_be_boolean(void **state)
{
	parse_fails(TGT "lun0 = /a\nlun0_readonly = maybe\n", "t.conf:3: ", "expected yes or no");
}

static void lun_serial_longer_than_32_is_rejected(void **state)
{
	parse_fails(TGT "lun0 = /a\nlun0_serial = 0123456789abcdef0123456789abcdefX\n",
		    "t.conf:3: ", "1..32 printable");
}

static void lun_naa_6_needs_32_hex_digits(void **state)
{
	parse_fails(TGT "lun0 = /a\nlun0_naa = 6001405012345678\n",
		    "t.conf:3: ", "expected 32 hex digits");
}

static void lun_naa_with_non_hex_digit_is_rejected(void **state)
{
	parse_fails(TGT "lun0 = /a\nlun0_naa = 300140501234567g\n",
		    "t.conf:3: ", "expected 32 hex digits");
}

static void lun_naa_3_and_5_with_16_digits_are_accepted(void **state)
{
	struct hatgt_config *cfg = parse_ok(TGT "lun0 = /a\nlun0_naa = 3001405012345678\n"
						"lun1 = /b\nlun1_naa = 5001405012345678\n");
	const struct hatgt_lun_cfg *l = cfg->targets[0].luns;

	assert_int_equal(l[0].naa_len, 8);
	assert_int_equal(l[0].naa[0], 0x30);
	assert_int_equal(l[1].naa[7], 0x78);
	hatgt_config_free(cfg);
}

static void parse_size_accepts_suffixes(void **state)
{
	uint64_t v = 0;

	assert_int_equal(hatgt_parse_size("512", &v), 0);
	assert_int_equal(v, 512);
	assert_int_equal(hatgt_parse_size("4k", &v), 0);
	assert_int_equal(v, 4096);
	assert_int_equal(hatgt_parse_size("3M", &v), 0);
	assert_int_equal(v, 3ULL << 20);
	assert_int_equal(hatgt_parse_size("2G", &v), 0);
	assert_int_equal(v, 2ULL << 30);
	assert_int_equal(hatgt_parse_size("5T", &v), 0);
	assert_int_equal(v, 5ULL << 40);
}

static void parse_size_rejects_malformed_text(void **state)
{
	uint64_t v = 0;

	assert_int_equal(hatgt_parse_size("", &v), -EINVAL);
	assert_int_equal(hatgt_parse_size("G", &v), -EINVAL);
	assert_int_equal(hatgt_parse_size("-1", &v), -EINVAL);
	assert_int_equal(hatgt_parse_size(" 1", &v), -EINVAL);
	assert_int_equal(hatgt_parse_size("1GB", &v), -EINVAL);
	assert_int_equal(hatgt_parse_size("1.5G", &v), -EINVAL);
	assert_int_equal(hatgt_parse_size("0x10", &v), -EINVAL);
}

static void parse_size_rejects_overflow(void **state)
{
	uint64_t v = 0;

	assert_int_equal(hatgt_parse_size("16777216T", &v), -ERANGE);
	assert_int_equal(hatgt_parse_size("99999999999999999999", &v), -ERANGE);
	assert_int_equal(hatgt_parse_size("16777215T", &v), 0);
}

static void allow_may_repeat_and_accumulates(void **state)
{
	struct hatgt_config *cfg =
		parse_ok(TGT "allow = iqn.2001-04.com.a:h1, iqn.2001-04.com.a:h2\n"
			     "allow = IQN.2001-04.com.a:H3\n");
	const struct hatgt_target_cfg *t = &cfg->targets[0];

	assert_int_equal(t->nallow, 3);
	assert_string_equal(t->allow[1], "iqn.2001-04.com.a:h2");
	assert_string_equal(t->allow[2], "iqn.2001-04.com.a:h3");
	hatgt_config_free(cfg);
}

static void allow_with_invalid_name_is_rejected(void **state)
{
	parse_fails(TGT "allow = host1\n", "t.conf:2: ", "allow: 'host1'");
}

static void allow_listing_a_name_twice_is_rejected(void **state)
{
	parse_fails(TGT "allow = iqn.2001-04.com.a:h1\nallow = iqn.2001-04.com.a:H1\n",
		    "t.conf:3: ", "listed twice");
}

static void chap_user_without_secret_is_rejected(void **state)
{
	parse_fails(TGT "chap_user = alice\nalias = x\n",
		    "t.conf:2: ", "chap_user without chap_secret");
}

static void chap_secret_without_user_is_rejected(void **state)
{
	parse_fails(TGT "alias = x\nchap_secret = 0123456789ab\n",
		    "t.conf:3: ", "chap_secret without chap_user");
}

static void chap_secret_shorter_than_12_bytes_is_rejected(void **state)
{
	/* RFC 7143 section 12.1.3: fewer than 96 random bits need IPsec. */
	parse_fails(TGT "chap_user = a\nchap_secret = 0123456789a\n",
		    "t.conf:3: ", "at least 12 bytes");
}

static void mutual_secret_equal_to_chap_secret_is_rejected(void **state)
{
	parse_fails(TGT "chap_user = a\nchap_secret = 0123456789ab\n"
			"mutual_user = t\nmutual_secret = 0123456789ab\n",
		    "t.conf:5: ", "must differ");
}

static void mutual_without_one_way_chap_is_rejected(void **state)
{
	parse_fails(TGT "mutual_user = t\nmutual_secret = 0123456789ab\n",
		    "t.conf:2: ", "mutual_user requires chap_user");
}

static void discovery_mutual_secret_equal_to_chap_secret_is_rejected(void **state)
{
	parse_fails("[global]\ndiscovery_chap_user = a\ndiscovery_chap_secret = 0123456789ab\n"
		    "discovery_mutual_user = t\ndiscovery_mutual_secret = 0123456789ab\n",
		    "t.conf:5: ", "discovery_mutual_secret must differ");
}

static void discovery_chap_user_without_secret_is_rejected(void **state)
{
	parse_fails("[global]\ndiscovery_chap_user = a\n",
		    "t.conf:2: ", "discovery_chap_user without discovery_chap_secret");
}

static void identity_is_stable_for_same_target_and_lun(void **state)
{
	char s1[33], s2[33];
	uint8_t n1[16], n2[16], l1 = 0, l2 = 0;

	assert_int_equal(hatgt_config_lun_identity("iqn.2026-11.org.x:a", 0, s1, n1, &l1), 0);
	assert_int_equal(hatgt_config_lun_identity("iqn.2026-11.org.x:a", 0, s2, n2, &l2), 0);
	assert_string_equal(s1, s2);
	assert_int_equal(strlen(s1), 16);
	assert_int_equal(l1, 8);
	assert_memory_equal(n1, n2, 8);
}

static void identity_is_naa_3_locally_assigned(void **state)
{
	char s[33];
	uint8_t n[16], l = 0;

	assert_int_equal(hatgt_config_lun_identity("iqn.2026-11.org.x:a", 5, s, n, &l), 0);
	assert_int_equal(n[0] >> 4, 3);
}

static void identity_differs_between_luns(void **state)
{
	char s1[33], s2[33];
	uint8_t n1[16], n2[16], l = 0;

	assert_int_equal(hatgt_config_lun_identity("iqn.2026-11.org.x:a", 0, s1, n1, &l), 0);
	assert_int_equal(hatgt_config_lun_identity("iqn.2026-11.org.x:a", 1, s2, n2, &l), 0);
	assert_string_not_equal(s1, s2);
	assert_memory_not_equal(n1, n2, 8);
}

static void identity_differs_between_targets(void **state)
{
	char s1[33], s2[33];
	uint8_t n1[16], n2[16], l = 0;

	assert_int_equal(hatgt_config_lun_identity("iqn.2026-11.org.x:a", 0, s1, n1, &l), 0);
	assert_int_equal(hatgt_config_lun_identity("iqn.2026-11.org.x:b", 0, s2, n2, &l), 0);
	assert_string_not_equal(s1, s2);
	assert_memory_not_equal(n1, n2, 8);
}

static void parsed_lun_gets_derived_identity(void **state)
{
	struct hatgt_config *cfg = parse_ok("[target IQN.2026-11.org.x:A]\nlun2 = /a\n");
	char s[33];
	uint8_t n[16], l = 0;

	/* Derived from the normal form, so the spelling in the file does not
	 * change the identity. */
	assert_int_equal(hatgt_config_lun_identity("iqn.2026-11.org.x:a", 2, s, n, &l), 0);
	assert_string_equal(cfg->targets[0].luns[0].serial, s);
	assert_int_equal(cfg->targets[0].luns[0].naa_len, 8);
	assert_memory_equal(cfg->targets[0].luns[0].naa, n, 8);
	hatgt_config_free(cfg);
}

static void explicit_serial_keeps_derived_naa(void **state)
{
	struct hatgt_config *cfg = parse_ok(TGT "lun0 = /a\nlun0_serial = MYSERIAL\n");

	assert_string_equal(cfg->targets[0].luns[0].serial, "MYSERIAL");
	assert_int_equal(cfg->targets[0].luns[0].naa_len, 8);
	assert_int_equal(cfg->targets[0].luns[0].naa[0] >> 4, 3);
	hatgt_config_free(cfg);
}

static void identity_of_overlong_name_is_einval(void **state)
{
	char name[300], s[33];
	uint8_t n[16], l;

	memset(name, 'a', sizeof(name) - 1);
	name[sizeof(name) - 1] = '\0';
	assert_int_equal(hatgt_config_lun_identity(name, 0, s, n, &l), -EINVAL);
}

static void free_accepts_null(void **state)
{
	hatgt_config_free(NULL);
}

/* Fail each allocation in turn: every failure is -ENOMEM with a message
 * and (under ASan) no leak; past the last allocation the parse succeeds. */
static void allocation_failure_at_any_point_is_enomem(void **state)
{
	static const char text[] = "[global]\nlisten = 127.0.0.1:3260\npid_file = /run/x\n"
				   "log_level = info\nadmin_name = x\n" TGT "alias = a\n"
				   "lun0 = /a\nlun1 = /b\nallow = iqn.2001-04.com.a:h1\n"
				   "allow = iqn.2001-04.com.a:h2\n"
				   "[target iqn.2026-11.org.example:disk2]\nlun0 = /c\n";
	struct hatgt_config *cfg = NULL;
	int n, rc = -ENOMEM;

	for (n = 0; n < 200 && rc; n++) {
		alloc_countdown = n;
		err[0] = '\0';
		rc = hatgt_config_parse_string(text, "t.conf", &cfg, err, sizeof(err));
		alloc_countdown = -1;
		if (rc) {
			assert_int_equal(rc, -ENOMEM);
			assert_null(cfg);
			assert_non_null(strstr(err, "out of memory"));
		}
	}
	assert_int_equal(rc, 0);
	assert_true(n > 10);
	assert_non_null(cfg);
	if (!cfg)
		return; /* for static analysers: assert_non_null does not return */
	assert_int_equal(cfg->ntargets, 2);
	hatgt_config_free(cfg);
}

/*
 * include = PATH (docs/config.md, docs/diskless-boot.md section 2). Each
 * test gets a fresh directory from mkdtemp; the teardown removes it.
 */
static char tdir[64];

static int tdir_setup(void **state)
{
	snprintf(tdir, sizeof(tdir), "/tmp/hatgt-include-test-XXXXXX");
	return mkdtemp(tdir) ? 0 : -1;
}

/* Remove every entry of dir, one level of subdirectories deep, then dir. */
static void tdir_remove(const char *dir, int depth)
{
	char path[PATH_MAX];
	struct dirent *de;
	DIR *d = opendir(dir);

	if (!d)
		return;
	while ((de = readdir(d))) {
		if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, ".."))
			continue;
		snprintf(path, sizeof(path), "%s/%s", dir, de->d_name);
		if (unlink(path) && depth > 0)
			tdir_remove(path, depth - 1);
	}
	closedir(d);
	rmdir(dir);
}

static int tdir_teardown(void **state)
{
	tdir_remove(tdir, 1);
	return 0;
}

#define INC_TEST(f) cmocka_unit_test_setup_teardown(f, tdir_setup, tdir_teardown)

/* Path of rel under the test directory, in one of 4 rotating buffers. */
static const char *tpath(const char *rel)
{
	static char paths[4][PATH_MAX];
	static int next;
	char *s = paths[next++ % 4];

	snprintf(s, PATH_MAX, "%s/%s", tdir, rel);
	return s;
}

/* Write text to the test directory's file rel. \return its path. */
static const char *tfile(const char *rel, const char *text)
{
	const char *path = tpath(rel);
	FILE *f = fopen(path, "w");

	assert_non_null(f);
	assert_int_equal(fputs(text, f) >= 0, 1);
	assert_int_equal(fclose(f), 0);
	return path;
}

/* Make the test directory's subdirectory rel. \return its path, kept apart
 * from tpath()'s buffers (one subdirectory per test). */
static const char *tsubdir(const char *rel)
{
	static char path[PATH_MAX];

	snprintf(path, sizeof(path), "%s/%s", tdir, rel);
	assert_int_equal(mkdir(path, 0700), 0);
	return path;
}

/* The main config "t.conf": [global] with include = each path given. */
static int inc_parse(struct hatgt_config **cfg, const char *inc1, const char *inc2,
		     const char *tail)
{
	char text[3 * PATH_MAX];

	snprintf(text, sizeof(text), "[global]\nlisten = 127.0.0.1:3260\ninclude = %s\n%s%s%s%s",
		 inc1, inc2 ? "include = " : "", inc2 ? inc2 : "", inc2 ? "\n" : "",
		 tail ? tail : "");
	err[0] = '\0';
	return hatgt_config_parse_string(text, "t.conf", cfg, err, sizeof(err));
}

/* Parse must fail with rc; err must start with "file:line: " and contain what. */
static void inc_fails(int rc, struct hatgt_config *cfg, int want_rc, const char *file, int line,
		      const char *what)
{
	char prefix[PATH_MAX + 32];

	snprintf(prefix, sizeof(prefix), "%s:%d: ", file, line);
	if (strncmp(err, prefix, strlen(prefix)) || !strstr(err, what))
		print_error("message was: %s\n", err);
	assert_int_equal(rc, want_rc);
	assert_null(cfg);
	assert_int_equal(strncmp(err, prefix, strlen(prefix)), 0);
	assert_non_null(strstr(err, what));
}

#define TGT_A "[target iqn.2026-11.org.example:a]\n"
#define TGT_B "[target iqn.2026-11.org.example:b]\n"

static void include_of_missing_path_names_the_include_line(void **state)
{
	struct hatgt_config *cfg = (void *)1;
	int rc = inc_parse(&cfg, tpath("absent.conf"), NULL, NULL);

	inc_fails(rc, cfg, -ENOENT, "t.conf", 3, "No such file or directory");
	assert_non_null(strstr(err, tpath("absent.conf")));
}

/* A FIFO (or a device) named by include must be refused, not opened for a
 * read that blocks the daemon's loop during a SIGHUP reload. The alarm
 * turns a blocked open into a failed test instead of a hung one. */
static void include_of_fifo_is_refused_without_blocking(void **state)
{
	struct hatgt_config *cfg = (void *)1;
	const char *fifo = tpath("fifo.conf");
	int rc;

	assert_int_equal(mkfifo(fifo, 0600), 0);
	alarm(10);
	rc = inc_parse(&cfg, fifo, NULL, NULL);
	alarm(0);
	inc_fails(rc, cfg, -EINVAL, "t.conf", 3, "not a regular file");
	assert_non_null(strstr(err, fifo));
}

static void include_of_relative_path_is_rejected(void **state)
{
	struct hatgt_config *cfg = (void *)1;
	char cwd[PATH_MAX];
	int rc;

	/* a.conf exists relative to the working directory: still refused */
	tfile("a.conf", TGT_A);
	assert_non_null(getcwd(cwd, sizeof(cwd)));
	assert_int_equal(chdir(tdir), 0);
	rc = inc_parse(&cfg, "a.conf", NULL, NULL);
	assert_int_equal(chdir(cwd), 0);
	inc_fails(rc, cfg, -EINVAL, "t.conf", 3, "'a.conf' is not an absolute path");
}

static void included_file_is_parsed_after_main_file_global(void **state)
{
	struct hatgt_config *cfg = NULL;
	const char *a = tfile("a.conf", TGT_A "lun0 = /a\n");

	assert_int_equal(inc_parse(&cfg, a, NULL, TGT_B), 0);
	assert_int_equal(cfg->ntargets, 2);
	assert_string_equal(cfg->targets[0].name, "iqn.2026-11.org.example:a");
	assert_int_equal(cfg->targets[0].nluns, 1);
	assert_string_equal(cfg->targets[0].luns[0].path, "/a");
	assert_string_equal(cfg->targets[1].name, "iqn.2026-11.org.example:b");
	assert_int_equal(cfg->nincludes, 1);
	assert_string_equal(cfg->includes[0], a);
	hatgt_config_free(cfg);
}

static void global_section_in_included_file_names_that_file(void **state)
{
	struct hatgt_config *cfg = (void *)1;
	const char *a = tfile("a.conf", TGT_A "lun0 = /a\n[global]\n");
	int rc = inc_parse(&cfg, a, NULL, NULL);

	inc_fails(rc, cfg, -EINVAL, a, 3, "[global] is not allowed in an included file");
}

/* Include a directory of 10-first.conf and 20-second.conf: the parse must
 * fail at line of the second file with what. */
static void inc_second_file_fails(const char *first, const char *second, int line, const char *what)
{
	struct hatgt_config *cfg = (void *)1;
	const char *d = tsubdir("d");
	int rc;

	tfile("d/10-first.conf", first);
	tfile("d/20-second.conf", second);
	rc = inc_parse(&cfg, d, NULL, NULL);
	inc_fails(rc, cfg, -EINVAL, tpath("d/20-second.conf"), line, what);
}

static void same_target_in_two_included_files_is_rejected(void **state)
{
	inc_second_file_fails(TGT_A "lun0 = /a\n", "; again\n" TGT_A "lun0 = /b\n", 2,
			      "duplicate target iqn.2026-11.org.example:a");
}

static void included_directory_is_read_in_byte_order_of_names(void **state)
{
	/* Created out of order; strcmp order is 10 < 9 < B < a < b, which
	 * neither creation order nor a case-folding locale would give. */
	static const struct {
		const char *name;
		int pos;
	} files[] = {{"b.conf", 4}, {"a.conf", 3}, {"B.conf", 2}, {"9.conf", 1}, {"10.conf", 0}};
	struct hatgt_config *cfg = NULL;
	const char *d = tsubdir("d");
	char rel[64], text[128], want[64];
	size_t i;

	for (i = 0; i < 5; i++) {
		snprintf(rel, sizeof(rel), "d/%s", files[i].name);
		snprintf(text, sizeof(text), "[target iqn.2026-11.org.example:pos%d]\n",
			 files[i].pos);
		tfile(rel, text);
	}
	assert_int_equal(inc_parse(&cfg, d, NULL, NULL), 0);
	assert_int_equal(cfg->ntargets, 5);
	for (i = 0; i < 5; i++) {
		snprintf(want, sizeof(want), "iqn.2026-11.org.example:pos%zu", i);
		assert_string_equal(cfg->targets[i].name, want);
	}
	hatgt_config_free(cfg);
}

static void hidden_and_non_conf_files_in_directory_are_skipped(void **state)
{
	static const char *const skipped[] = {
		".hidden.conf", ".conf", "x.conf~", "x.conf.bak", "README", "conf",
	};
	struct hatgt_config *cfg = NULL;
	const char *d = tsubdir("d");
	char rel[64];
	size_t i;

	/* Each skipped file would fail the parse if it were read. */
	for (i = 0; i < sizeof(skipped) / sizeof(skipped[0]); i++) {
		snprintf(rel, sizeof(rel), "d/%s", skipped[i]);
		tfile(rel, "[global]\nnot an ini line\n");
	}
	tfile("d/ok.conf", TGT_A);
	assert_int_equal(inc_parse(&cfg, d, NULL, NULL), 0);
	assert_int_equal(cfg->ntargets, 1);
	assert_string_equal(cfg->targets[0].name, "iqn.2026-11.org.example:a");
	hatgt_config_free(cfg);
}

static void empty_included_directory_adds_no_target(void **state)
{
	struct hatgt_config *cfg = NULL;

	assert_int_equal(inc_parse(&cfg, tsubdir("d"), NULL, NULL), 0);
	assert_int_equal(cfg->ntargets, 0);
	assert_int_equal(cfg->nincludes, 1);
	hatgt_config_free(cfg);
}

static void include_may_repeat_and_is_read_in_given_order(void **state)
{
	struct hatgt_config *cfg = NULL;
	const char *b = tfile("b.conf", TGT_B);
	const char *a = tfile("a.conf", TGT_A);

	assert_int_equal(inc_parse(&cfg, b, a, NULL), 0);
	assert_int_equal(cfg->ntargets, 2);
	assert_string_equal(cfg->targets[0].name, "iqn.2026-11.org.example:b");
	assert_string_equal(cfg->targets[1].name, "iqn.2026-11.org.example:a");
	assert_int_equal(cfg->nincludes, 2);
	assert_string_equal(cfg->includes[0], b);
	assert_string_equal(cfg->includes[1], a);
	hatgt_config_free(cfg);
}

/* Naming one path twice is a mistake, not a no-op: refused at the second
 * line even for a directory with no targets (no duplicate target to hit). */
static void same_include_named_twice_is_rejected(void **state)
{
	struct hatgt_config *cfg = (void *)1;
	const char *d = tsubdir("d");
	int rc = inc_parse(&cfg, d, d, NULL);

	inc_fails(rc, cfg, -EINVAL, "t.conf", 4, "named twice");
}

static void syntax_error_in_included_file_names_that_file_and_line(void **state)
{
	struct hatgt_config *cfg = (void *)1;
	const char *a = tfile("a.conf", "; clone output\n" TGT_A "lun0 = /a\nlun1 /b\n");
	int rc = inc_parse(&cfg, a, NULL, "bogus = 1\n");

	inc_fails(rc, cfg, -EINVAL, a, 4, "syntax error");
}

static void bad_value_in_included_directory_names_that_file_and_line(void **state)
{
	inc_second_file_fails(TGT_A "lun0 = /a\n", TGT_B "lun0 = relative\n", 2,
			      "not an absolute path");
}

/* Nesting: the second file of the directory names the first one again
 * (a real file, so only the nesting itself can be refused). */
static void inc_nested_fails(const char *before, const char *after, int line, const char *what)
{
	char text[PATH_MAX + 128];

	snprintf(text, sizeof(text), "%sinclude = %s/d/10-first.conf\n%s", before, tdir, after);
	inc_second_file_fails(TGT_A, text, line, what);
}

static void include_in_target_of_included_file_is_rejected(void **state)
{
	inc_nested_fails(TGT_B, "", 2, "unknown key 'include' in [target]");
}

static void include_before_any_section_of_included_file_is_rejected(void **state)
{
	inc_nested_fails("", TGT_B, 1, "key 'include' outside of any section");
}

static void include_of_non_regular_file_is_rejected(void **state)
{
	struct hatgt_config *cfg = (void *)1;
	int rc = inc_parse(&cfg, "/dev/null", NULL, NULL);

	inc_fails(rc, cfg, -EINVAL, "t.conf", 3, "/dev/null: not a regular file");
}

/* Fail each allocation in turn while a directory of two files is read:
 * -ENOMEM every time (no leak under ASan), then success. */
static void include_under_allocation_failure_is_enomem(void **state)
{
	struct hatgt_config *cfg = NULL;
	const char *d = tsubdir("d");
	int n, rc = -ENOMEM;

	tfile("d/a.conf", TGT_A "lun0 = /a\nallow = iqn.2001-04.com.a:h1\n");
	tfile("d/b.conf", TGT_B "lun0 = /b\n");
	for (n = 0; n < 200 && rc; n++) {
		alloc_countdown = n;
		rc = inc_parse(&cfg, d, NULL, NULL);
		alloc_countdown = -1;
		if (rc) {
			if (rc != -ENOMEM)
				print_error("message was: %s\n", err);
			assert_int_equal(rc, -ENOMEM);
			assert_null(cfg);
			assert_true(strstr(err, "out of memory") || strstr(err, strerror(ENOMEM)));
		}
	}
	assert_int_equal(rc, 0);
	assert_true(n > 5);
	assert_non_null(cfg);
	if (!cfg)
		return;
	assert_int_equal(cfg->ntargets, 2);
	hatgt_config_free(cfg);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(embedded_default_parses),
		cmocka_unit_test(poll_us_auto_is_stored_as_auto),
		cmocka_unit_test(poll_us_number_is_stored),
		cmocka_unit_test(poll_us_other_word_is_rejected),
		cmocka_unit_test(poll_us_above_range_is_rejected),
		cmocka_unit_test(defaults_apply_when_keys_absent),
		cmocka_unit_test(every_global_key_is_stored),
		cmocka_unit_test(limits_have_safe_defaults),
		cmocka_unit_test(every_limit_key_is_stored),
		cmocka_unit_test(zero_connections_is_rejected),
		cmocka_unit_test(zero_connections_per_address_is_rejected),
		cmocka_unit_test(zero_sessions_per_target_is_rejected),
		cmocka_unit_test(commands_per_session_above_4096_is_rejected),
		INC_TEST(include_of_missing_path_names_the_include_line),
		INC_TEST(include_of_fifo_is_refused_without_blocking),
		INC_TEST(include_of_relative_path_is_rejected),
		INC_TEST(included_file_is_parsed_after_main_file_global),
		INC_TEST(global_section_in_included_file_names_that_file),
		INC_TEST(same_target_in_two_included_files_is_rejected),
		INC_TEST(included_directory_is_read_in_byte_order_of_names),
		INC_TEST(hidden_and_non_conf_files_in_directory_are_skipped),
		INC_TEST(empty_included_directory_adds_no_target),
		INC_TEST(include_may_repeat_and_is_read_in_given_order),
		INC_TEST(same_include_named_twice_is_rejected),
		INC_TEST(syntax_error_in_included_file_names_that_file_and_line),
		INC_TEST(bad_value_in_included_directory_names_that_file_and_line),
		INC_TEST(include_in_target_of_included_file_is_rejected),
		INC_TEST(include_before_any_section_of_included_file_is_rejected),
		INC_TEST(include_of_non_regular_file_is_rejected),
		INC_TEST(include_under_allocation_failure_is_enomem),
		cmocka_unit_test(connection_memory_below_16_mib_is_rejected),
		cmocka_unit_test(connection_memory_with_suffix_is_a_bad_number),
		cmocka_unit_test(limit_key_in_target_section_is_unknown),
		cmocka_unit_test(every_target_key_is_stored),
		cmocka_unit_test(target_defaults_are_tpgt_1_rtpi_1_any_initiator),
		cmocka_unit_test(example_config_parses),
		cmocka_unit_test(missing_file_names_the_file),
		cmocka_unit_test(load_reads_a_file_and_names_it_in_errors),
		cmocka_unit_test(file_with_nul_byte_is_rejected),
		cmocka_unit_test(unknown_section_is_rejected),
		cmocka_unit_test(unknown_global_key_is_rejected),
		cmocka_unit_test(unknown_target_key_is_rejected),
		cmocka_unit_test(key_outside_any_section_is_rejected),
		cmocka_unit_test(duplicate_key_is_rejected_naming_the_first),
		cmocka_unit_test(duplicate_lun_key_is_rejected),
		cmocka_unit_test(duplicate_global_section_is_rejected),
		cmocka_unit_test(line_without_equals_is_a_syntax_error),
		cmocka_unit_test(section_without_bracket_is_rejected),
		cmocka_unit_test(text_after_section_header_is_rejected),
		cmocka_unit_test(line_longer_than_inih_buffer_is_rejected),
		cmocka_unit_test(indented_keys_are_keys_not_continuations),
		cmocka_unit_test(comments_and_byte_order_mark_are_ignored),
		cmocka_unit_test(non_numeric_value_is_a_bad_number),
		cmocka_unit_test(negative_number_is_a_bad_number),
		cmocka_unit_test(number_below_range_is_rejected),
		cmocka_unit_test(number_above_range_is_rejected),
		cmocka_unit_test(rtpi_zero_is_rejected),
		cmocka_unit_test(tpgt_above_16_bits_is_rejected),
		cmocka_unit_test(cluster_mode_must_be_none_or_corosync),
		cmocka_unit_test(demote_connections_park_is_stored),
		cmocka_unit_test(demote_connections_logout_is_stored),
		cmocka_unit_test(demote_connections_must_be_park_or_logout),
		cmocka_unit_test(unknown_log_level_is_rejected),
		cmocka_unit_test(admin_name_with_slash_is_rejected),
		cmocka_unit_test(relative_state_dir_is_rejected),
		cmocka_unit_test(vendor_longer_than_8_is_rejected),
		cmocka_unit_test(product_longer_than_16_is_rejected),
		cmocka_unit_test(listen_accepts_ipv4_and_ipv6_lists),
		cmocka_unit_test(listen_port_defaults_to_3260),
		cmocka_unit_test(listen_ipv6_text_is_canonical),
		cmocka_unit_test(listen_ipv6_without_brackets_is_rejected),
		cmocka_unit_test(listen_host_name_is_rejected),
		cmocka_unit_test(listen_bad_port_is_rejected),
		cmocka_unit_test(listen_empty_element_is_rejected),
		cmocka_unit_test(listen_duplicate_portal_is_rejected),
		cmocka_unit_test(listen_more_than_16_portals_is_rejected),
		cmocka_unit_test(target_name_with_unknown_prefix_is_rejected),
		cmocka_unit_test(target_name_with_underscore_is_rejected),
		cmocka_unit_test(target_name_with_bad_month_is_rejected),
		cmocka_unit_test(target_name_without_date_is_rejected),
		cmocka_unit_test(eui_name_needs_16_hex_digits),
		cmocka_unit_test(eui_and_naa_names_are_accepted),
		cmocka_unit_test(target_name_is_normalized_to_lower_case),
		cmocka_unit_test(target_lookup_of_absent_name_is_null),
		cmocka_unit_test(name_longer_than_223_bytes_is_rejected),
		cmocka_unit_test(non_ascii_name_is_rejected),
		cmocka_unit_test(duplicate_target_is_rejected_after_normalization),
		cmocka_unit_test(target_without_lun_is_allowed),
		cmocka_unit_test(lun_size_without_lun_is_rejected),
		cmocka_unit_test(lun_number_above_255_is_rejected),
		cmocka_unit_test(lun_number_with_leading_zero_is_rejected),
		cmocka_unit_test(lun_relative_path_is_rejected),
		cmocka_unit_test(luns_are_sorted_by_number),
		cmocka_unit_test(lun_size_must_be_multiple_of_block_size),
		cmocka_unit_test(lun_size_multiple_of_512_but_not_4096_is_rejected_for_4k),
		cmocka_unit_test(lun_size_zero_is_rejected),
		cmocka_unit_test(lun_size_with_bad_suffix_is_rejected),
		cmocka_unit_test(lun_size_too_large_is_rejected),
		cmocka_unit_test(lun_block_size_must_be_512_or_4096),
		cmocka_unit_test(lun_readonly_must_be_boolean),
		cmocka_unit_test(lun_removable_must_be_boolean),
		cmocka_unit_test(lun_physical_block_size_must_be_power_of_two),
		cmocka_unit_test(lun_physical_block_size_over_1m_is_rejected),
		cmocka_unit_test(lun_physical_block_size_below_block_size_is_rejected),
		cmocka_unit_test(lun_physical_block_size_given_twice_is_rejected),
		cmocka_unit_test(removable_key_first_under_allocation_failure_is_enomem),
		cmocka_unit_test(lun_serial_longer_than_32_is_rejected),
		cmocka_unit_test(lun_naa_6_needs_32_hex_digits),
		cmocka_unit_test(lun_naa_with_non_hex_digit_is_rejected),
		cmocka_unit_test(lun_naa_3_and_5_with_16_digits_are_accepted),
		cmocka_unit_test(parse_size_accepts_suffixes),
		cmocka_unit_test(parse_size_rejects_malformed_text),
		cmocka_unit_test(parse_size_rejects_overflow),
		cmocka_unit_test(allow_may_repeat_and_accumulates),
		cmocka_unit_test(allow_with_invalid_name_is_rejected),
		cmocka_unit_test(allow_listing_a_name_twice_is_rejected),
		cmocka_unit_test(chap_user_without_secret_is_rejected),
		cmocka_unit_test(chap_secret_without_user_is_rejected),
		cmocka_unit_test(chap_secret_shorter_than_12_bytes_is_rejected),
		cmocka_unit_test(mutual_secret_equal_to_chap_secret_is_rejected),
		cmocka_unit_test(mutual_without_one_way_chap_is_rejected),
		cmocka_unit_test(discovery_mutual_secret_equal_to_chap_secret_is_rejected),
		cmocka_unit_test(discovery_chap_user_without_secret_is_rejected),
		cmocka_unit_test(identity_is_stable_for_same_target_and_lun),
		cmocka_unit_test(identity_is_naa_3_locally_assigned),
		cmocka_unit_test(identity_differs_between_luns),
		cmocka_unit_test(identity_differs_between_targets),
		cmocka_unit_test(parsed_lun_gets_derived_identity),
		cmocka_unit_test(explicit_serial_keeps_derived_naa),
		cmocka_unit_test(identity_of_overlong_name_is_einval),
		cmocka_unit_test(free_accepts_null),
		cmocka_unit_test(allocation_failure_at_any_point_is_enomem),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
