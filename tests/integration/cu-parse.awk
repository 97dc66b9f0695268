# SPDX-License-Identifier: GPL-2.0-or-later
#
# Parse the verbose text output of libiscsi's iscsi-test-cu (CUnit basic mode)
# into one line per test: SUITE<TAB>TEST<TAB>passed|failed|skipped.
#
# CUnit prints "Suite: NAME", then per test "  Test: NAME ..." followed,
# possibly after lines the test itself prints, by "passed" or "FAILED" (on the
# same line when the test printed nothing). CUnit counts a skipped test as
# passed; libiscsi marks it by printing "[SKIPPED]", so we report it apart.

function flush(status) {
	if (test != "") {
		if (status == "passed" && skipped)
			status = "skipped"
		printf "%s\t%s\t%s\n", suite, test, status
	}
	test = ""
	skipped = 0
}

/^Suite: / {
	suite = substr($0, 8)
	next
}

/^  Test: / {
	line = substr($0, 9)
	test = line
	sub(/ \.\.\..*$/, "", test)
	# Text printed after CUnit's verdict may follow it on the line.
	verdict = ""
	if (match(line, /\.\.\.(passed|FAILED)/)) {
		verdict = substr(line, RSTART + 3, RLENGTH - 3)
		line = substr(line, 1, RSTART - 1)
	}
	skipped = (line ~ /\[SKIPPED\]/)
	if (verdict == "passed")
		flush("passed")
	else if (verdict == "FAILED")
		flush("failed")
	next
}

# CUnit's verdict starts a line; text printed later (e.g. by a suite's
# teardown) may follow it on that line and does not belong to this test.
test != "" && /^passed/ {
	flush("passed")
	next
}

test != "" && /^FAILED/ {
	flush("failed")
	next
}

test != "" && /\[SKIPPED\]/ {
	skipped = 1
}

# The summary ends the run; a test still open here crashed the tool.
/^Run Summary:/ {
	if (test != "")
		flush("failed")
}

END {
	if (test != "")
		flush("failed")
}
