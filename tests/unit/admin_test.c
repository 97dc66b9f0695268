/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The admin channel: wire format (admin_wire.c), dispatch and a real libqb
 * IPC round trip (admin.c).
 *
 *   test thread                      server thread
 *   admin_client_call() --libqb SHM--> qb_loop_run(): admin_server
 *                                      (service "hatgt-test-PID")
 */
#include <errno.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/uio.h>
#include <unistd.h>
#include <cmocka.h>

#include <qb/qbipcc.h>
#include <qb/qbloop.h>

#include "admin/admin_int.h"
#include "util/be.h"

/* Allocation failure injection for the decoder. */
static int alloc_countdown = -1;
void *__real_calloc(size_t n, size_t size);

void *__wrap_calloc(size_t n, size_t size)
{
	if (alloc_countdown >= 0 && alloc_countdown-- == 0)
		return NULL;
	return __real_calloc(n, size);
}

/* ---- commands of the test server ---- */

static int cmd_echo(void *ctx, int argc, char **argv, int json, struct buf *out)
{
	int i;

	for (i = 1; i < argc; i++)
		buf_printf(out, "%s%s", i > 1 ? " " : "", argv[i]);
	buf_printf(out, "%s\n", json ? " (json)" : "");
	return HATGT_ADMIN_OK;
}

static int cmd_fail(void *ctx, int argc, char **argv, int json, struct buf *out)
{
	buf_printf(out, "no such target\n");
	return HATGT_ADMIN_NOT_FOUND;
}

static int cmd_big(void *ctx, int argc, char **argv, int json, struct buf *out)
{
	size_t i, n = (size_t)strtoul(argv[1], NULL, 10);

	for (i = 0; i < n; i++)
		buf_append(out, "x", 1);
	return HATGT_ADMIN_OK;
}

static int cmd_ctx(void *ctx, int argc, char **argv, int json, struct buf *out)
{
	buf_printf(out, "%s", (const char *)ctx);
	return HATGT_ADMIN_OK;
}

static const struct admin_cmd test_cmds[] = {
	{"echo", "echo ARGS...: print the arguments", cmd_echo},
	{"fail", "fail: report not found", cmd_fail},
	{"big", "big N: N bytes of reply", cmd_big},
	{"ctx", "ctx: print the context", cmd_ctx},
};
#define NCMDS (sizeof(test_cmds) / sizeof(test_cmds[0]))

/* ---- wire format ---- */

static void request_round_trips(void **state)
{
	char *argv[] = {"show", "", "target x"};
	struct buf b = BUF_INIT;
	struct admin_req req;
	const char *why;

	assert_int_equal(admin_req_encode(3, argv, HATGT_ADMIN_F_JSON, &b), 0);
	assert_int_equal(b.len, ADMIN_REQ_HDR_LEN + sizeof("show") + 1 + sizeof("target x"));
	assert_int_equal(admin_req_decode(b.data, b.len, &req, &why), 0);
	assert_int_equal(req.argc, 3);
	assert_string_equal(req.argv[0], "show");
	assert_string_equal(req.argv[1], "");
	assert_string_equal(req.argv[2], "target x");
	assert_null(req.argv[3]);
	assert_int_equal(req.flags, HATGT_ADMIN_F_JSON);
	admin_req_release(&req);
	buf_release(&b);
}

static void request_without_arguments_is_not_encoded(void **state)
{
	struct buf b = BUF_INIT;

	assert_int_equal(admin_req_encode(0, NULL, 0, &b), -EINVAL);
	assert_int_equal(b.len, 0);
}

static void request_larger_than_max_is_not_encoded(void **state)
{
	char *big = calloc(1, HATGT_ADMIN_MAX_MSG);
	char *argv[] = {"x", big};
	struct buf b = BUF_INIT;

	assert_non_null(big);
	memset(big, 'a', HATGT_ADMIN_MAX_MSG - 1);
	assert_int_equal(admin_req_encode(2, argv, 0, &b), -EMSGSIZE);
	free(big);
	buf_release(&b);
}

/* Build a valid request for the malformed-input cases to break. */
static void request_build(struct buf *b, int argc, char **argv)
{
	assert_int_equal(admin_req_encode(argc, argv, 0, b), 0);
}

static void request_decode_fails(const void *data, size_t len, const char *what)
{
	struct admin_req req;
	const char *why = NULL;

	assert_int_equal(admin_req_decode(data, len, &req, &why), -EBADMSG);
	assert_non_null(why);
	assert_non_null(strstr(why, what));
	assert_null(req.argv);
	assert_null(req.strings);
}

static void truncated_request_is_rejected(void **state)
{
	char *argv[] = {"status"};
	struct buf b = BUF_INIT;

	request_build(&b, 1, argv);
	request_decode_fails(b.data, ADMIN_REQ_HDR_LEN - 1, "shorter than its header");
	buf_release(&b);
}

static void request_size_mismatch_is_rejected(void **state)
{
	char *argv[] = {"status"};
	struct buf b = BUF_INIT;

	request_build(&b, 1, argv);
	/* The qb header says one length, the message has another. */
	request_decode_fails(b.data, b.len - 1, "size");
	buf_release(&b);
}

static void request_with_bad_magic_is_rejected(void **state)
{
	char *argv[] = {"status"};
	struct buf b = BUF_INIT;

	request_build(&b, 1, argv);
	b.data[sizeof(struct qb_ipc_request_header)] ^= 0xff;
	request_decode_fails(b.data, b.len, "bad magic");
	buf_release(&b);
}

static void request_with_other_version_is_rejected(void **state)
{
	char *argv[] = {"status"};
	struct buf b = BUF_INIT;

	request_build(&b, 1, argv);
	put_be16(b.data + sizeof(struct qb_ipc_request_header) + 4, 2);
	request_decode_fails(b.data, b.len, "version");
	buf_release(&b);
}

static void request_with_unknown_flag_is_rejected(void **state)
{
	char *argv[] = {"status"};
	struct buf b = BUF_INIT;

	request_build(&b, 1, argv);
	put_be16(b.data + sizeof(struct qb_ipc_request_header) + 6, 0x8000);
	request_decode_fails(b.data, b.len, "flags");
	buf_release(&b);
}

static void request_with_zero_argc_is_rejected(void **state)
{
	char *argv[] = {"status"};
	struct buf b = BUF_INIT;

	request_build(&b, 1, argv);
	put_be32(b.data + sizeof(struct qb_ipc_request_header) + 8, 0);
	request_decode_fails(b.data, b.len, "count");
	buf_release(&b);
}

static void request_with_huge_argc_is_rejected(void **state)
{
	char *argv[] = {"status"};
	struct buf b = BUF_INIT;

	request_build(&b, 1, argv);
	put_be32(b.data + sizeof(struct qb_ipc_request_header) + 8, 0xffffffffu);
	request_decode_fails(b.data, b.len, "count");
	buf_release(&b);
}

static void request_argc_not_matching_strings_is_rejected(void **state)
{
	char *argv[] = {"a", "b"};
	struct buf b = BUF_INIT;

	request_build(&b, 2, argv);
	put_be32(b.data + sizeof(struct qb_ipc_request_header) + 8, 3);
	request_decode_fails(b.data, b.len, "NUL-terminated");
	buf_release(&b);
}

static void request_without_final_nul_is_rejected(void **state)
{
	char *argv[] = {"a", "bc"};
	struct buf b = BUF_INIT;

	request_build(&b, 2, argv);
	/* "a\0bc\0" -> "a\0b\0c": same count of NULs, unterminated end. */
	b.data[b.len - 3] = 'b';
	b.data[b.len - 2] = '\0';
	b.data[b.len - 1] = 'c';
	request_decode_fails(b.data, b.len, "NUL-terminated");
	buf_release(&b);
}

static void request_args_len_mismatch_is_rejected(void **state)
{
	char *argv[] = {"status"};
	struct buf b = BUF_INIT;

	request_build(&b, 1, argv);
	put_be32(b.data + sizeof(struct qb_ipc_request_header) + 12, 1000);
	request_decode_fails(b.data, b.len, "argument length");
	buf_release(&b);
}

static void request_with_empty_verb_is_rejected(void **state)
{
	char *argv[] = {""};
	struct buf b = BUF_INIT;

	request_build(&b, 1, argv);
	request_decode_fails(b.data, b.len, "empty command");
	buf_release(&b);
}

static void request_decode_out_of_memory_is_enomem(void **state)
{
	char *argv[] = {"status", "x"};
	struct buf b = BUF_INIT;
	struct admin_req req;
	const char *why;
	int n;

	request_build(&b, 2, argv);
	for (n = 0; n < 2; n++) {
		alloc_countdown = n;
		assert_int_equal(admin_req_decode(b.data, b.len, &req, &why), -ENOMEM);
		alloc_countdown = -1;
		assert_null(req.argv);
	}
	buf_release(&b);
}

static void reply_round_trips(void **state)
{
	uint8_t msg[ADMIN_RSP_HDR_LEN + 5];
	const char *text;
	size_t len;
	int status;

	admin_rsp_header_put(msg, HATGT_ADMIN_NOT_FOUND, 5);
	memcpy(msg + ADMIN_RSP_HDR_LEN, "hello", 5);
	assert_int_equal(admin_rsp_decode(msg, sizeof(msg), &status, &text, &len), 0);
	assert_int_equal(status, HATGT_ADMIN_NOT_FOUND);
	assert_int_equal(len, 5);
	assert_memory_equal(text, "hello", 5);
}

static void truncated_reply_is_rejected(void **state)
{
	uint8_t msg[ADMIN_RSP_HDR_LEN + 5];
	const char *text;
	size_t len;
	int status;

	admin_rsp_header_put(msg, 0, 5);
	assert_int_equal(admin_rsp_decode(msg, sizeof(msg) - 1, &status, &text, &len), -EBADMSG);
	assert_int_equal(admin_rsp_decode(msg, 3, &status, &text, &len), -EBADMSG);
}

static void reply_with_bad_text_length_is_rejected(void **state)
{
	uint8_t msg[ADMIN_RSP_HDR_LEN + 5];
	const char *text;
	size_t len;
	int status;

	admin_rsp_header_put(msg, 0, 5);
	put_be32(msg + sizeof(struct qb_ipc_response_header) + 12, 4);
	assert_int_equal(admin_rsp_decode(msg, sizeof(msg), &status, &text, &len), -EBADMSG);
}

/* ---- dispatch without IPC ---- */

static int dispatch(int argc, char **argv, unsigned int flags, struct buf *out)
{
	struct buf b = BUF_INIT;
	struct admin_req req;
	int status;

	assert_int_equal(admin_req_encode(argc, argv, flags, &b), 0);
	assert_int_equal(admin_req_decode(b.data, b.len, &req, NULL), 0);
	status = admin_request_dispatch(test_cmds, NCMDS, "the-context", &req, out);
	assert_int_equal(buf_append(out, "", 1), 0);
	admin_req_release(&req);
	buf_release(&b);
	return status;
}

static void help_lists_every_verb_with_usage(void **state)
{
	char *argv[] = {"help"};
	struct buf out = BUF_INIT;

	assert_int_equal(dispatch(1, argv, 0, &out), HATGT_ADMIN_OK);
	assert_non_null(strstr((char *)out.data, "echo ARGS...: print the arguments"));
	assert_non_null(strstr((char *)out.data, "fail: report not found"));
	assert_non_null(strstr((char *)out.data, "big N"));
	buf_release(&out);
}

static void help_in_json_is_a_command_list(void **state)
{
	char *argv[] = {"help"};
	struct buf out = BUF_INIT;

	assert_int_equal(dispatch(1, argv, HATGT_ADMIN_F_JSON, &out), HATGT_ADMIN_OK);
	assert_non_null(strstr((char *)out.data,
			       "{\"commands\":[{\"verb\":\"help\",\"usage\":\"help\"},"
			       "{\"verb\":\"echo\",\"usage\":"));
	buf_release(&out);
}

static void unknown_verb_is_usage_error_with_hint(void **state)
{
	char *argv[] = {"shw"};
	struct buf out = BUF_INIT;

	assert_int_equal(dispatch(1, argv, 0, &out), HATGT_ADMIN_USAGE);
	assert_string_equal((char *)out.data, "unknown command: shw (try help)\n");
	buf_release(&out);
}

static void unknown_verb_in_json_is_an_error_object(void **state)
{
	char *argv[] = {"sh\"w"};
	struct buf out = BUF_INIT;

	assert_int_equal(dispatch(1, argv, HATGT_ADMIN_F_JSON, &out), HATGT_ADMIN_USAGE);
	assert_string_equal((char *)out.data,
			    "{\"error\":\"unknown command: sh\\\"w (try help)\"}\n");
	buf_release(&out);
}

static void handler_gets_arguments_and_context(void **state)
{
	char *argv[] = {"echo", "a", "b c"};
	char *argv2[] = {"ctx"};
	struct buf out = BUF_INIT;

	assert_int_equal(dispatch(3, argv, 0, &out), HATGT_ADMIN_OK);
	assert_string_equal((char *)out.data, "a b c\n");
	buf_release(&out);
	assert_int_equal(dispatch(1, argv2, 0, &out), HATGT_ADMIN_OK);
	assert_string_equal((char *)out.data, "the-context");
	buf_release(&out);
}

static void json_argument_is_stripped_into_the_flag(void **state)
{
	char *argv[] = {"echo", "a", "--json", "b"};
	struct buf out = BUF_INIT;

	assert_int_equal(dispatch(4, argv, 0, &out), HATGT_ADMIN_OK);
	assert_string_equal((char *)out.data, "a b (json)\n");
	buf_release(&out);
}

static void handler_status_is_returned(void **state)
{
	char *argv[] = {"fail"};
	struct buf out = BUF_INIT;

	assert_int_equal(dispatch(1, argv, 0, &out), HATGT_ADMIN_NOT_FOUND);
	buf_release(&out);
}

static void json_string_escapes_quotes_and_controls(void **state)
{
	struct buf b = BUF_INIT;

	assert_int_equal(admin_json_str(&b, "a\"b\\c\nd\x01"), 0);
	assert_int_equal(buf_append(&b, "", 1), 0);
	assert_string_equal((char *)b.data, "\"a\\\"b\\\\c\\nd\\u0001\"");
	buf_release(&b);
}

static void root_and_own_user_are_allowed_others_not(void **state)
{
	assert_true(admin_uid_allowed(0, 1000));
	assert_true(admin_uid_allowed(1000, 1000));
	assert_false(admin_uid_allowed(1001, 1000));
}

/* ---- end to end over libqb IPC ---- */

struct server_fixture {
	qb_loop_t *loop;
	struct admin_server *srv;
	pthread_t thread;
	int stop_pipe[2];
	char name[64];
};

static int32_t server_stop_cb(int32_t fd, int32_t revents, void *data)
{
	struct server_fixture *f = data;

	admin_server_stop(f->srv);
	f->srv = NULL;
	qb_loop_poll_del(f->loop, fd);
	qb_loop_stop(f->loop);
	return 0;
}

static void *server_thread(void *arg)
{
	struct server_fixture *f = arg;

	qb_loop_run(f->loop);
	return NULL;
}

static int server_setup(void **state)
{
	struct server_fixture *f = calloc(1, sizeof(*f));

	if (!f)
		return -1;
	snprintf(f->name, sizeof(f->name), "hatgt-test-%d", (int)getpid());
	f->stop_pipe[0] = f->stop_pipe[1] = -1;
	f->loop = qb_loop_create();
	if (!f->loop || pipe(f->stop_pipe))
		goto fail;
	if (admin_server_start(f->loop, f->name, test_cmds, NCMDS, "the-context", &f->srv))
		goto fail;
	if (qb_loop_poll_add(f->loop, QB_LOOP_HIGH, f->stop_pipe[0], POLLIN, f, server_stop_cb))
		goto fail;
	if (pthread_create(&f->thread, NULL, server_thread, f))
		goto fail;
	*state = f;
	return 0;
fail:
	/* A group setup that fails gets no teardown: release what we made. */
	admin_server_stop(f->srv);
	if (f->loop)
		qb_loop_destroy(f->loop);
	if (f->stop_pipe[0] >= 0) {
		close(f->stop_pipe[0]);
		close(f->stop_pipe[1]);
	}
	free(f);
	return -1;
}

static int server_teardown(void **state)
{
	struct server_fixture *f = *state;

	if (write(f->stop_pipe[1], "x", 1) != 1)
		return -1;
	pthread_join(f->thread, NULL);
	qb_loop_destroy(f->loop);
	close(f->stop_pipe[0]);
	close(f->stop_pipe[1]);
	free(f);
	return 0;
}

static void call_returns_handler_text_and_status(void **state)
{
	struct server_fixture *f = *state;
	char *argv[] = {"echo", "hello", "world"};
	struct buf reply = BUF_INIT;

	assert_int_equal(admin_client_call(f->name, 3, argv, 5000, &reply), HATGT_ADMIN_OK);
	assert_string_equal((char *)reply.data, "hello world\n");
	assert_int_equal(reply.len, strlen("hello world\n"));
	buf_release(&reply);
}

static void call_with_json_flag_reaches_handler(void **state)
{
	struct server_fixture *f = *state;
	char *argv[] = {"echo", "x"};
	struct buf reply = BUF_INIT;

	assert_int_equal(
		admin_client_call_flags(f->name, 2, argv, HATGT_ADMIN_F_JSON, 5000, &reply),
		HATGT_ADMIN_OK);
	assert_string_equal((char *)reply.data, "x (json)\n");
	buf_release(&reply);
}

static void call_of_unknown_verb_exits_2(void **state)
{
	struct server_fixture *f = *state;
	char *argv[] = {"frobnicate"};
	struct buf reply = BUF_INIT;

	assert_int_equal(admin_client_call(f->name, 1, argv, 5000, &reply), HATGT_ADMIN_USAGE);
	assert_string_equal((char *)reply.data, "unknown command: frobnicate (try help)\n");
	buf_release(&reply);
}

static void call_passes_handler_status_through(void **state)
{
	struct server_fixture *f = *state;
	char *argv[] = {"fail"};
	struct buf reply = BUF_INIT;

	assert_int_equal(admin_client_call(f->name, 1, argv, 5000, &reply), HATGT_ADMIN_NOT_FOUND);
	buf_release(&reply);
}

static void call_carries_large_reply(void **state)
{
	struct server_fixture *f = *state;
	char n[32];
	char *argv[] = {"big", n};
	struct buf reply = BUF_INIT;

	snprintf(n, sizeof(n), "%zu", (size_t)ADMIN_MAX_TEXT);
	assert_int_equal(admin_client_call(f->name, 2, argv, 5000, &reply), HATGT_ADMIN_OK);
	assert_int_equal(reply.len, ADMIN_MAX_TEXT);
	buf_release(&reply);
}

static void reply_over_the_limit_becomes_an_error(void **state)
{
	struct server_fixture *f = *state;
	char n[32];
	char *argv[] = {"big", n};
	struct buf reply = BUF_INIT;

	snprintf(n, sizeof(n), "%zu", (size_t)ADMIN_MAX_TEXT + 1);
	assert_int_equal(admin_client_call(f->name, 2, argv, 5000, &reply), HATGT_ADMIN_ERR);
	assert_non_null(strstr((char *)reply.data, "reply too large"));
	buf_release(&reply);
}

static void call_without_daemon_exits_4_with_hint(void **state)
{
	char *argv[] = {"status"};
	struct buf reply = BUF_INIT;

	assert_int_equal(admin_client_call("hatgt-test-nobody-here", 1, argv, 1000, &reply),
			 HATGT_ADMIN_NO_DAEMON);
	assert_string_equal((char *)reply.data, "cannot connect to hatgtd (service "
						"hatgt-test-nobody-here): is it running?\n");
	buf_release(&reply);
}

static void malformed_request_gets_error_reply_and_server_survives(void **state)
{
	struct server_fixture *f = *state;
	char *argv[] = {"echo", "still", "alive"};
	struct buf reply = BUF_INIT, req = BUF_INIT;
	qb_ipcc_connection_t *c;
	uint8_t rsp[4096];
	struct iovec iov;
	const char *text;
	size_t len;
	ssize_t n;
	int status;

	/* A well-framed libqb message whose body is garbage. */
	assert_int_equal(admin_req_encode(1, argv, 0, &req), 0);
	put_be32(req.data + sizeof(struct qb_ipc_request_header) + 8, 77);
	c = qb_ipcc_connect(f->name, HATGT_ADMIN_MAX_MSG);
	assert_non_null(c);
	iov.iov_base = req.data;
	iov.iov_len = req.len;
	n = qb_ipcc_sendv_recv(c, &iov, 1, rsp, sizeof(rsp), 5000);
	assert_true(n > 0);
	assert_int_equal(admin_rsp_decode(rsp, (size_t)n, &status, &text, &len), 0);
	assert_int_equal(status, HATGT_ADMIN_USAGE);
	assert_memory_equal(text, "malformed request:", 18);
	qb_ipcc_disconnect(c);
	buf_release(&req);

	assert_int_equal(admin_client_call(f->name, 3, argv, 5000, &reply), HATGT_ADMIN_OK);
	assert_string_equal((char *)reply.data, "still alive\n");
	buf_release(&reply);
}

static void second_server_on_another_loop_is_busy(void **state)
{
	struct admin_server *srv = (void *)1;
	qb_loop_t *other = qb_loop_create();

	assert_non_null(other);
	assert_int_equal(
		admin_server_start(other, "hatgt-test-other", test_cmds, NCMDS, NULL, &srv),
		-EBUSY);
	assert_null(srv);
	qb_loop_destroy(other);
}

static void server_stop_accepts_null(void **state)
{
	admin_server_stop(NULL);
}

int main(void)
{
	const struct CMUnitTest pure[] = {
		cmocka_unit_test(request_round_trips),
		cmocka_unit_test(request_without_arguments_is_not_encoded),
		cmocka_unit_test(request_larger_than_max_is_not_encoded),
		cmocka_unit_test(truncated_request_is_rejected),
		cmocka_unit_test(request_size_mismatch_is_rejected),
		cmocka_unit_test(request_with_bad_magic_is_rejected),
		cmocka_unit_test(request_with_other_version_is_rejected),
		cmocka_unit_test(request_with_unknown_flag_is_rejected),
		cmocka_unit_test(request_with_zero_argc_is_rejected),
		cmocka_unit_test(request_with_huge_argc_is_rejected),
		cmocka_unit_test(request_argc_not_matching_strings_is_rejected),
		cmocka_unit_test(request_without_final_nul_is_rejected),
		cmocka_unit_test(request_args_len_mismatch_is_rejected),
		cmocka_unit_test(request_with_empty_verb_is_rejected),
		cmocka_unit_test(request_decode_out_of_memory_is_enomem),
		cmocka_unit_test(reply_round_trips),
		cmocka_unit_test(truncated_reply_is_rejected),
		cmocka_unit_test(reply_with_bad_text_length_is_rejected),
		cmocka_unit_test(help_lists_every_verb_with_usage),
		cmocka_unit_test(help_in_json_is_a_command_list),
		cmocka_unit_test(unknown_verb_is_usage_error_with_hint),
		cmocka_unit_test(unknown_verb_in_json_is_an_error_object),
		cmocka_unit_test(handler_gets_arguments_and_context),
		cmocka_unit_test(json_argument_is_stripped_into_the_flag),
		cmocka_unit_test(handler_status_is_returned),
		cmocka_unit_test(json_string_escapes_quotes_and_controls),
		cmocka_unit_test(root_and_own_user_are_allowed_others_not),
		cmocka_unit_test(call_without_daemon_exits_4_with_hint),
		cmocka_unit_test(server_stop_accepts_null),
	};
	const struct CMUnitTest ipc[] = {
		cmocka_unit_test(call_returns_handler_text_and_status),
		cmocka_unit_test(call_with_json_flag_reaches_handler),
		cmocka_unit_test(call_of_unknown_verb_exits_2),
		cmocka_unit_test(call_passes_handler_status_through),
		cmocka_unit_test(call_carries_large_reply),
		cmocka_unit_test(reply_over_the_limit_becomes_an_error),
		cmocka_unit_test(malformed_request_gets_error_reply_and_server_survives),
		cmocka_unit_test(second_server_on_another_loop_is_busy),
	};
	int failed = cmocka_run_group_tests_name("admin_wire", pure, NULL, NULL);

	failed += cmocka_run_group_tests_name("admin_ipc", ipc, server_setup, server_teardown);
	return failed;
}
