/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * APTPL state files (SPC-4 5.12.5, design.md section 3 rule 4).
 *
 * One file per LU in state_dir, named pr-<NAA in hex>.aptpl:
 *   0-7   "HATGTPR\n"
 *   8-11  file format version (1)
 *   12-15 length of the state bytes
 *   16-23 replication epoch, 24-31 replication generation (pr_commit.h)
 *   32    NAA length, 33-48 NAA (zero padded), 49-51 zero
 *   52..  the state (pr_state_encode), then CRC-32 (IEEE) of all bytes before it.
 * Written atomically: temporary file, fsync, rename, fsync of the directory.
 * A file that does not check out is reported and refused, never emptied.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <qb/qblog.h>

#include "scsi/pr.h"
#include "scsi/scsi_int.h"
#include "util/be.h"

#define PR_STORE_VERSION 1
#define PR_STORE_HDR 52
/* Bigger than any state can be: PR_REGS_MAX registrations of maximal ports. */
#define PR_STORE_MAX (PR_STORE_HDR + 64 + PR_REGS_MAX * (8 + 1 + 4 + PR_PORT_MAX) + 4)

static const char pr_store_magic[8] = {'H', 'A', 'T', 'G', 'T', 'P', 'R', '\n'};

/* CRC-32 (IEEE 802.3, reflected, as zlib's crc32). */
static uint32_t pr_store_crc32(const uint8_t *p, size_t len)
{
	uint32_t crc = 0xffffffffu;
	size_t i;
	int k;

	for (i = 0; i < len; i++) {
		crc ^= p[i];
		for (k = 0; k < 8; k++)
			crc = (crc >> 1) ^ (0xedb88320u & (0u - (crc & 1u)));
	}
	return ~crc;
}

int pr_store_path(const char *dir, const uint8_t *naa, size_t naa_len, char *out, size_t cap)
{
	char hex[33] = {0};
	size_t i;
	int n;

	if (!dir || naa_len > 16)
		return -EINVAL;
	for (i = 0; i < naa_len; i++)
		snprintf(hex + 2 * i, 3, "%02x", naa[i]);
	n = snprintf(out, cap, "%s/pr-%s.aptpl", dir, hex);
	return n < 0 || (size_t)n >= cap ? -ENAMETOOLONG : 0;
}

static int pr_store_write_all(int fd, const uint8_t *p, size_t len)
{
	ssize_t n;

	while (len) {
		n = write(fd, p, len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return n < 0 ? -errno : -EIO;
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

static int pr_store_fsync_dir(const char *dir)
{
	int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC), ret = 0;

	if (fd < 0)
		return -errno;
	if (fsync(fd) < 0)
		ret = -errno;
	close(fd);
	return ret;
}

int pr_store_write(const char *dir, const uint8_t *naa, size_t naa_len, uint64_t epoch,
		   uint64_t gen, const struct pr_state *s)
{
	char path[4096], tmp[4200];
	uint8_t *state = NULL, *file = NULL;
	size_t slen = 0, flen;
	int fd = -1, ret;

	ret = pr_store_path(dir, naa, naa_len, path, sizeof(path));
	if (ret < 0)
		goto out;
	snprintf(tmp, sizeof(tmp), "%s.tmp", path);
	ret = pr_state_encode(s, &state, &slen);
	if (ret < 0)
		goto out;
	flen = PR_STORE_HDR + slen + 4;
	file = calloc(1, flen);
	if (!file) {
		ret = -ENOMEM;
		goto out;
	}
	memcpy(file, pr_store_magic, sizeof(pr_store_magic));
	put_be32(file + 8, PR_STORE_VERSION);
	put_be32(file + 12, (uint32_t)slen);
	put_be64(file + 16, epoch);
	put_be64(file + 24, gen);
	file[32] = (uint8_t)naa_len;
	memcpy(file + 33, naa, naa_len);
	memcpy(file + PR_STORE_HDR, state, slen);
	put_be32(file + PR_STORE_HDR + slen, pr_store_crc32(file, PR_STORE_HDR + slen));
	fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	if (fd < 0) {
		ret = -errno;
		goto out;
	}
	ret = pr_store_write_all(fd, file, flen);
	if (ret == 0 && fsync(fd) < 0)
		ret = -errno;
	if (close(fd) < 0 && ret == 0)
		ret = -errno;
	fd = -1;
	if (ret == 0 && rename(tmp, path) < 0)
		ret = -errno;
	if (ret == 0)
		ret = pr_store_fsync_dir(dir);
	else
		unlink(tmp);
out:
	if (ret < 0)
		qb_log(LOG_ERR, "cannot write APTPL state %s: %s", dir ? dir : "(no state_dir)",
		       strerror(-ret));
	free(file);
	free(state);
	return ret;
}

int pr_store_remove(const char *dir, const uint8_t *naa, size_t naa_len)
{
	char path[4096];
	int ret = pr_store_path(dir, naa, naa_len, path, sizeof(path));

	if (ret == 0 && unlink(path) < 0 && errno != ENOENT)
		ret = -errno;
	if (ret == 0)
		ret = pr_store_fsync_dir(dir);
	if (ret < 0)
		qb_log(LOG_ERR, "cannot remove APTPL state %s: %s", path, strerror(-ret));
	return ret;
}

/* Check a whole file image; \return 0 and the state, or -EINVAL with why. */
int pr_store_parse(const uint8_t *file, size_t flen, const uint8_t *naa, size_t naa_len,
		   uint64_t *epoch, uint64_t *gen, struct pr_state **out, const char **why)
{
	uint32_t slen;
	size_t i;
	int ret = -EINVAL;

	*why = "truncated";
	if (flen < PR_STORE_HDR + 4)
		goto out;
	*why = "not an APTPL state file";
	if (memcmp(file, pr_store_magic, sizeof(pr_store_magic)))
		goto out;
	*why = "unknown format version";
	if (get_be32(file + 8) != PR_STORE_VERSION)
		goto out;
	slen = get_be32(file + 12);
	*why = "truncated";
	if ((uint64_t)slen + PR_STORE_HDR + 4 > flen)
		goto out;
	*why = "trailing bytes";
	if ((uint64_t)slen + PR_STORE_HDR + 4 < flen)
		goto out;
	*why = "checksum mismatch";
	if (get_be32(file + PR_STORE_HDR + slen) != pr_store_crc32(file, PR_STORE_HDR + slen))
		goto out;
	*why = "belongs to another LU";
	if (file[32] != naa_len || memcmp(file + 33, naa, naa_len))
		goto out;
	for (i = 33 + naa_len; i < PR_STORE_HDR; i++)
		if (file[i])
			goto out;
	*why = "malformed state";
	ret = pr_state_decode(file + PR_STORE_HDR, slen, out);
	if (ret < 0)
		goto out;
	*epoch = get_be64(file + 16);
	*gen = get_be64(file + 24);
	*why = NULL;
out:
	return ret;
}

int pr_store_read(const char *dir, const uint8_t *naa, size_t naa_len, uint64_t *epoch,
		  uint64_t *gen, struct pr_state **out)
{
	char path[4096];
	const char *why = NULL;
	uint8_t *file = NULL;
	struct stat st;
	size_t got = 0;
	ssize_t n;
	int fd = -1, ret;

	ret = pr_store_path(dir, naa, naa_len, path, sizeof(path));
	if (ret < 0)
		goto out;
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		ret = -errno;
		if (ret != -ENOENT)
			qb_log(LOG_ERR, "cannot open APTPL state %s: %s", path, strerror(-ret));
		goto out;
	}
	if (fstat(fd, &st) < 0 || st.st_size > PR_STORE_MAX) {
		ret = -EINVAL;
		why = "too big";
		goto out;
	}
	file = calloc(1, (size_t)st.st_size + 1);
	if (!file) {
		ret = -ENOMEM;
		goto out;
	}
	while (got < (size_t)st.st_size) {
		n = read(fd, file + got, (size_t)st.st_size - got);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		got += (size_t)n;
	}
	ret = pr_store_parse(file, got, naa, naa_len, epoch, gen, out, &why);
out:
	if (why && ret == -EINVAL)
		qb_log(LOG_ERR,
		       "APTPL state %s is corrupt (%s): refusing it; move it away to "
		       "start without the registrations it holds",
		       path, why);
	if (fd >= 0)
		close(fd);
	free(file);
	return ret;
}
