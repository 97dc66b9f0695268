/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Encryption at rest: a layer over a raw store (bs_file.c), used when a LUN
 * has lunN_encryption_key_file.
 *
 * Data: AES-256-XTS (IEEE 1619) through OpenSSL EVP, in 512-byte data units
 * whatever the LU's block size, the tweak being the data unit number counted
 * from the start of the exposed LU (offset / 512, 128-bit little endian, as
 * dm-crypt's plain64). Every unit is encrypted on its own, so random reads
 * and writes of any whole number of units work without read-modify-write.
 *
 * Holes: an all-zero 512-byte unit on the inner store reads as zeros instead
 * of being decrypted. A unit that was never written, or was unmapped (hole,
 * discard), is zeros below us, so UNMAP and LBPRZ keep their meaning. A real
 * ciphertext unit is all zeros with probability 2^-4096. An observer of the
 * disk thus learns which units are unmapped, as the allocation map tells anyway.
 *
 * The media encryption key (MEK, 64 random bytes) is kept, wrapped with the
 * key-encryption key (KEK, 32 bytes from the key file) by AES-256 key wrap
 * (RFC 3394), in a header on the inner store itself, so both cluster nodes
 * that share the disk and hold the same key file read the same data. The
 * first BS_CRYPT_HDR_AREA bytes (1 MiB) are the header area; the LU is the
 * rest. The area holds two 4 KiB slots; the valid one with the highest key
 * generation is the key in use:
 *
 *   0  "HATGTENC"   8  version (1)   10 cipher (1: AES-256-XTS, 512 B units)
 *   12 data unit    16 data offset  24 key generation   32 wrap (1: RFC 3394)
 *   34 wrapped len  40 wrapped MEK (72 bytes)  ...zeros...
 *   4064 SHA-256 of bytes 0..4063         (big endian throughout)
 *
 * A store whose header area is all zeros gets a new header at open (a
 * read-only one is refused). A wrong KEK (the unwrap's integrity check
 * fails), a corrupt header, or data without a header is refused with a log
 * line and nothing is written.
 *
 * CRYPTOGRAPHIC ERASE (SBC-3 4.11.4): a new random MEK under generation + 1
 * goes into the other slot (pwrite + fdatasync), then the old slot is zeroed
 * (pwrite + fdatasync). A crash in between leaves both; open takes the newer
 * and finishes the job by zeroing the older. Only the header is rewritten:
 * copies of the old header that the layers below keep (flash remapping,
 * snapshots of a thin volume) are beyond our reach; see docs/config.md.
 *
 * The header is read and written through our own descriptor of the path;
 * this is why only raw files and block devices are supported below us.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/rand.h>
#include <qb/qblog.h>

#include "backend/backend_int.h"
#include "util/be.h"

#define BS_CRYPT_HDR_AREA (1024u * 1024) /* bytes before the LU's first byte */
#define BS_CRYPT_SLOT_SIZE 4096u
#define BS_CRYPT_UNIT 512u
#define BS_CRYPT_KEK_LEN 32
#define BS_CRYPT_MEK_LEN 64 /* two AES-256 keys for XTS */
#define BS_CRYPT_WRAPPED_LEN (BS_CRYPT_MEK_LEN + 8)
#define BS_CRYPT_VERSION 1
#define BS_CRYPT_CIPHER_XTS 1
#define BS_CRYPT_WRAP_RFC3394 1
#define BS_CRYPT_DIGEST_OFF (BS_CRYPT_SLOT_SIZE - 32)
#define BS_CRYPT_FREE_MAX 16 /* request wrappers kept for reuse */

static const char bs_crypt_magic[8] = {'H', 'A', 'T', 'G', 'T', 'E', 'N', 'C'};

enum bs_crypt_slot_state {
	BS_CRYPT_SLOT_EMPTY,   /* all zeros */
	BS_CRYPT_SLOT_VALID,   /* magic, digest, version all good */
	BS_CRYPT_SLOT_CORRUPT, /* magic, but digest or fields wrong */
	BS_CRYPT_SLOT_FOREIGN, /* something else: not ours */
};

struct bs_crypt;

/* One request passed down; its bounce buffer holds a write's ciphertext. */
struct bs_crypt_req {
	struct backend_io io; /* first: the inner store's view */
	struct backend_io *outer;
	struct bs_crypt *c;
	uint8_t *bounce;
	size_t cap;
	struct bs_crypt_req *next_free;
};

struct bs_crypt {
	struct backend be; /* first: the vtable's view */
	struct backend *inner;
	char *path;	      /* for log lines */
	const char *key_file; /* for log lines during open only */
	int hdr_fd;
	unsigned int slot;   /* the slot holding the key in use */
	uint64_t generation; /* of the key in use */
	uint8_t kek[BS_CRYPT_KEK_LEN];
	EVP_CIPHER_CTX *enc;
	EVP_CIPHER_CTX *dec;
	unsigned int writes_inflight;
	struct bs_crypt_req *free_list;
	unsigned int nfree;
};

const struct backend_ops backend_crypt_ops;

/* ---- key file ---------------------------------------------------------- */

static int bs_crypt_hex_nibble(char ch)
{
	if (ch >= '0' && ch <= '9')
		return ch - '0';
	if (ch >= 'a' && ch <= 'f')
		return ch - 'a' + 10;
	if (ch >= 'A' && ch <= 'F')
		return ch - 'A' + 10;
	return -1;
}

/*
 * Read the KEK: exactly 32 bytes of binary, or 64 hex digits and an optional
 * newline. The file must be a regular file that neither group nor others
 * may access, since it unlocks every LU encrypted with it.
 */
static int bs_crypt_key_load(const char *path, uint8_t *kek)
{
	char raw[BS_CRYPT_KEK_LEN * 2 + 2];
	struct stat st;
	ssize_t n;
	size_t len = 0, i;
	int fd, hi, lo, ret = 0;

	fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
	if (fd < 0) {
		ret = -errno;
		qb_log(LOG_ERR, "encryption key file %s: cannot open: %s", path, strerror(errno));
		goto out;
	}
	if (fstat(fd, &st) < 0) {
		ret = -errno;
		goto out;
	}
	if (!S_ISREG(st.st_mode)) {
		ret = -EINVAL;
		qb_log(LOG_ERR, "encryption key file %s is not a regular file", path);
		goto out;
	}
	if (st.st_mode & (S_IRWXG | S_IRWXO)) {
		ret = -EPERM;
		qb_log(LOG_ERR,
		       "encryption key file %s has mode %04o: group or others may access it; "
		       "refusing it (chmod 600)",
		       path, (unsigned int)(st.st_mode & 07777));
		goto out;
	}
	do {
		n = read(fd, raw + len, sizeof(raw) - len);
		if (n < 0 && errno != EINTR) {
			ret = -errno;
			goto out;
		}
		if (n > 0)
			len += (size_t)n;
	} while (n != 0 && len < sizeof(raw));
	if (len == BS_CRYPT_KEK_LEN) {
		memcpy(kek, raw, BS_CRYPT_KEK_LEN);
		goto out;
	}
	if (len == sizeof(raw) - 1 && raw[len - 1] == '\n')
		len--;
	ret = -EINVAL;
	if (len != BS_CRYPT_KEK_LEN * 2) {
		qb_log(LOG_ERR,
		       "encryption key file %s: expected 32 bytes of binary or 64 hex digits, "
		       "found %zu%s bytes",
		       path, len, len == sizeof(raw) ? " or more" : "");
		goto out;
	}
	for (i = 0; i < BS_CRYPT_KEK_LEN; i++) {
		hi = bs_crypt_hex_nibble(raw[2 * i]);
		lo = bs_crypt_hex_nibble(raw[2 * i + 1]);
		if (hi < 0 || lo < 0) {
			qb_log(LOG_ERR, "encryption key file %s: not a hex digit at byte %zu", path,
			       hi < 0 ? 2 * i : 2 * i + 1);
			goto out;
		}
		kek[i] = (uint8_t)(hi << 4 | lo);
	}
	ret = 0;
out:
	OPENSSL_cleanse(raw, sizeof(raw));
	if (fd >= 0)
		close(fd);
	return ret;
}

/* ---- header ------------------------------------------------------------ */

static bool bs_crypt_all_zero(const uint8_t *p, size_t len)
{
	size_t i;

	for (i = 0; i < len; i++)
		if (p[i])
			return false;
	return true;
}

static int bs_crypt_digest(const uint8_t *slot, uint8_t *md)
{
	unsigned int mdlen = 0;

	return EVP_Digest(slot, BS_CRYPT_DIGEST_OFF, md, &mdlen, EVP_sha256(), NULL) == 1 ? 0
											  : -EIO;
}

static enum bs_crypt_slot_state bs_crypt_slot_check(const uint8_t *slot)
{
	uint8_t md[32];

	if (bs_crypt_all_zero(slot, BS_CRYPT_SLOT_SIZE))
		return BS_CRYPT_SLOT_EMPTY;
	if (memcmp(slot, bs_crypt_magic, sizeof(bs_crypt_magic)) != 0)
		return BS_CRYPT_SLOT_FOREIGN;
	if (bs_crypt_digest(slot, md) < 0 || memcmp(md, slot + BS_CRYPT_DIGEST_OFF, 32) != 0 ||
	    get_be16(slot + 8) != BS_CRYPT_VERSION || get_be16(slot + 10) != BS_CRYPT_CIPHER_XTS ||
	    get_be32(slot + 12) != BS_CRYPT_UNIT || get_be64(slot + 16) != BS_CRYPT_HDR_AREA ||
	    get_be16(slot + 32) != BS_CRYPT_WRAP_RFC3394 ||
	    get_be16(slot + 34) != BS_CRYPT_WRAPPED_LEN)
		return BS_CRYPT_SLOT_CORRUPT;
	return BS_CRYPT_SLOT_VALID;
}

/* AES-256 key wrap (RFC 3394) of the MEK with the KEK, either way. */
static int bs_crypt_wrap(const uint8_t *kek, const uint8_t *in, uint8_t *out, bool wrap)
{
	int outl = 0, fin = 0, len = wrap ? BS_CRYPT_MEK_LEN : BS_CRYPT_WRAPPED_LEN;
	EVP_CIPHER_CTX *ctx;
	int ret = -ENOMEM;

	ctx = EVP_CIPHER_CTX_new();
	if (!ctx)
		goto out;
	EVP_CIPHER_CTX_set_flags(ctx, EVP_CIPHER_CTX_FLAG_WRAP_ALLOW);
	ret = -EKEYREJECTED;
	if (EVP_CipherInit_ex(ctx, EVP_aes_256_wrap(), NULL, kek, NULL, wrap ? 1 : 0) != 1 ||
	    EVP_CipherUpdate(ctx, out, &outl, in, len) != 1 ||
	    EVP_CipherFinal_ex(ctx, out + outl, &fin) != 1 ||
	    outl + fin != (wrap ? BS_CRYPT_WRAPPED_LEN : BS_CRYPT_MEK_LEN))
		goto out;
	ret = 0;
out:
	EVP_CIPHER_CTX_free(ctx);
	return ret;
}

/* Key the data ciphers with \p mek. */
static int bs_crypt_rekey(struct bs_crypt *c, const uint8_t *mek)
{
	if (EVP_CipherInit_ex(c->enc, EVP_aes_256_xts(), NULL, mek, NULL, 1) != 1 ||
	    EVP_CipherInit_ex(c->dec, EVP_aes_256_xts(), NULL, mek, NULL, 0) != 1)
		return -EIO;
	return 0;
}

/* A fresh MEK; XTS refuses a key whose two halves are equal. */
static int bs_crypt_mek_new(uint8_t *mek)
{
	do {
		if (RAND_bytes(mek, BS_CRYPT_MEK_LEN) != 1)
			return -EIO;
	} while (CRYPTO_memcmp(mek, mek + BS_CRYPT_MEK_LEN / 2, BS_CRYPT_MEK_LEN / 2) == 0);
	return 0;
}

static int bs_crypt_pwrite_sync(int fd, const uint8_t *p, size_t len, off_t off)
{
	ssize_t n = pwrite(fd, p, len, off);

	if (n < 0)
		return -errno;
	if ((size_t)n != len)
		return -EIO;
	return fdatasync(fd) < 0 ? -errno : 0;
}

/* Write \p mek under \p generation into slot \p idx, durably. */
static int bs_crypt_slot_write(struct bs_crypt *c, unsigned int idx, uint64_t generation,
			       const uint8_t *mek)
{
	uint8_t *slot;
	int ret = -ENOMEM;

	slot = calloc(1, BS_CRYPT_SLOT_SIZE);
	if (!slot)
		goto out;
	memcpy(slot, bs_crypt_magic, sizeof(bs_crypt_magic));
	put_be16(slot + 8, BS_CRYPT_VERSION);
	put_be16(slot + 10, BS_CRYPT_CIPHER_XTS);
	put_be32(slot + 12, BS_CRYPT_UNIT);
	put_be64(slot + 16, BS_CRYPT_HDR_AREA);
	put_be64(slot + 24, generation);
	put_be16(slot + 32, BS_CRYPT_WRAP_RFC3394);
	put_be16(slot + 34, BS_CRYPT_WRAPPED_LEN);
	ret = bs_crypt_wrap(c->kek, mek, slot + 40, true);
	if (ret < 0)
		goto out;
	ret = bs_crypt_digest(slot, slot + BS_CRYPT_DIGEST_OFF);
	if (ret < 0)
		goto out;
	ret = bs_crypt_pwrite_sync(c->hdr_fd, slot, BS_CRYPT_SLOT_SIZE,
				   (off_t)idx * BS_CRYPT_SLOT_SIZE);
out:
	free(slot);
	return ret;
}

static int bs_crypt_slot_wipe(struct bs_crypt *c, unsigned int idx)
{
	uint8_t *zero = calloc(1, BS_CRYPT_SLOT_SIZE);
	int ret = -ENOMEM;

	if (zero)
		ret = bs_crypt_pwrite_sync(c->hdr_fd, zero, BS_CRYPT_SLOT_SIZE,
					   (off_t)idx * BS_CRYPT_SLOT_SIZE);
	free(zero);
	return ret;
}

/* A new store: a header with a fresh MEK, generation 1, in slot 0. */
static int bs_crypt_hdr_create(struct bs_crypt *c)
{
	uint8_t mek[BS_CRYPT_MEK_LEN];
	int ret;

	ret = bs_crypt_mek_new(mek);
	if (ret == 0)
		ret = bs_crypt_slot_write(c, 0, 1, mek);
	if (ret == 0)
		ret = bs_crypt_rekey(c, mek);
	if (ret == 0) {
		c->slot = 0;
		c->generation = 1;
		qb_log(LOG_NOTICE, "%s: new encryption header (AES-256-XTS), key generation 1",
		       c->path);
	} else {
		qb_log(LOG_ERR, "%s: cannot write the encryption header: %s", c->path,
		       strerror(-ret));
	}
	OPENSSL_cleanse(mek, sizeof(mek));
	return ret;
}

/* Use the key in slot \p idx of \p area. */
static int bs_crypt_hdr_use(struct bs_crypt *c, const uint8_t *area, unsigned int idx)
{
	const uint8_t *slot = area + (size_t)idx * BS_CRYPT_SLOT_SIZE;
	uint8_t mek[BS_CRYPT_MEK_LEN];
	int ret;

	ret = bs_crypt_wrap(c->kek, slot + 40, mek, false);
	if (ret < 0) {
		qb_log(LOG_ERR,
		       "%s: the key in %s does not unlock this store's encryption header "
		       "(wrong key file); refusing the LUN",
		       c->path, c->key_file);
		goto out;
	}
	ret = bs_crypt_rekey(c, mek);
	if (ret < 0)
		goto out;
	c->slot = idx;
	c->generation = get_be64(slot + 24);
out:
	OPENSSL_cleanse(mek, sizeof(mek));
	return ret;
}

/*
 * Read the header area and take the key from it, or write a new header on
 * a blank store. See the top of the file for the rules.
 */
static int bs_crypt_hdr_load(struct bs_crypt *c, bool readonly)
{
	enum bs_crypt_slot_state st[2];
	uint8_t *area;
	unsigned int i, use;
	ssize_t n;
	int ret = -ENOMEM;

	area = calloc(1, BS_CRYPT_HDR_AREA);
	if (!area)
		goto out;
	n = pread(c->hdr_fd, area, BS_CRYPT_HDR_AREA, 0);
	if (n != (ssize_t)BS_CRYPT_HDR_AREA) {
		ret = n < 0 ? -errno : -EIO;
		qb_log(LOG_ERR, "%s: cannot read the encryption header", c->path);
		goto out;
	}
	for (i = 0; i < 2; i++)
		st[i] = bs_crypt_slot_check(area + (size_t)i * BS_CRYPT_SLOT_SIZE);
	if (st[0] == BS_CRYPT_SLOT_VALID || st[1] == BS_CRYPT_SLOT_VALID) {
		use = st[0] != BS_CRYPT_SLOT_VALID || (st[1] == BS_CRYPT_SLOT_VALID &&
						       get_be64(area + BS_CRYPT_SLOT_SIZE + 24) >
							       get_be64(area + 24))
			      ? 1
			      : 0;
		ret = bs_crypt_hdr_use(c, area, use);
		if (ret < 0 || st[!use] != BS_CRYPT_SLOT_VALID)
			goto out;
		/* An erase was cut short after the new key was written: finish it. */
		if (readonly) {
			qb_log(LOG_WARNING,
			       "%s: an older wrapped key is still in the header (read-only: not "
			       "wiped)",
			       c->path);
		} else {
			ret = bs_crypt_slot_wipe(c, !use);
			qb_log(ret < 0 ? LOG_ERR : LOG_NOTICE,
			       "%s: wiped the older key left by an interrupted cryptographic "
			       "erase%s",
			       c->path, ret < 0 ? ": failed" : "");
		}
		goto out;
	}
	if (st[0] == BS_CRYPT_SLOT_CORRUPT || st[1] == BS_CRYPT_SLOT_CORRUPT) {
		ret = -EBADMSG;
		qb_log(LOG_ERR, "%s: the encryption header is corrupt; refusing the LUN", c->path);
		goto out;
	}
	if (!bs_crypt_all_zero(area, BS_CRYPT_HDR_AREA)) {
		ret = -EINVAL;
		qb_log(LOG_ERR,
		       "%s holds data but no encryption header: refusing to format it "
		       "(encryption is for new, blank stores)",
		       c->path);
		goto out;
	}
	if (readonly) {
		ret = -EROFS;
		qb_log(LOG_ERR,
		       "%s: blank store without an encryption header, and the LUN is read-only: "
		       "cannot create the header",
		       c->path);
		goto out;
	}
	ret = bs_crypt_hdr_create(c);
out:
	free(area);
	return ret;
}

/* ---- I/O ---------------------------------------------------------------- */

/*
 * En- or decrypt \p len bytes (whole units) of the LU at byte \p offset from
 * \p in to \p out (which may be \p in). Decrypting leaves all-zero units
 * as zeros (holes).
 */
static int bs_crypt_xts(struct bs_crypt *c, bool enc, uint64_t offset, const uint8_t *in,
			uint8_t *out, uint64_t len)
{
	EVP_CIPHER_CTX *ctx = enc ? c->enc : c->dec;
	uint8_t iv[16] = {0};
	uint64_t unit = offset / BS_CRYPT_UNIT, done;
	int outl, i;

	for (done = 0; done < len; done += BS_CRYPT_UNIT, unit++) {
		if (!enc && bs_crypt_all_zero(in + done, BS_CRYPT_UNIT)) {
			if (out != in)
				memset(out + done, 0, BS_CRYPT_UNIT);
			continue;
		}
		for (i = 0; i < 8; i++)
			iv[i] = (uint8_t)(unit >> (8 * i));
		if (EVP_CipherInit_ex(ctx, NULL, NULL, NULL, iv, -1) != 1 ||
		    EVP_CipherUpdate(ctx, out + done, &outl, in + done, BS_CRYPT_UNIT) != 1)
			return -EIO;
	}
	return 0;
}

static void bs_crypt_req_put(struct bs_crypt *c, struct bs_crypt_req *r)
{
	if (c->nfree < BS_CRYPT_FREE_MAX) {
		r->next_free = c->free_list;
		c->free_list = r;
		c->nfree++;
		return;
	}
	free(r->bounce);
	free(r);
}

/* A request wrapper, with a bounce buffer of at least \p need bytes if need > 0. */
static struct bs_crypt_req *bs_crypt_req_get(struct bs_crypt *c, size_t need)
{
	struct bs_crypt_req *r = c->free_list;

	if (r) {
		c->free_list = r->next_free;
		c->nfree--;
	} else {
		r = calloc(1, sizeof(*r));
		if (!r)
			return NULL;
	}
	if (need > r->cap) {
		free(r->bounce);
		r->cap = 0;
		r->bounce = calloc(1, need);
		if (!r->bounce) {
			bs_crypt_req_put(c, r);
			return NULL;
		}
		r->cap = need;
	}
	r->c = c;
	return r;
}

static void bs_crypt_io_done(struct backend_io *io, int64_t res)
{
	struct bs_crypt_req *r = (struct bs_crypt_req *)io;
	struct backend_io *outer = r->outer;
	struct bs_crypt *c = r->c;

	if (outer->op == BACKEND_OP_WRITE)
		c->writes_inflight--;
	/* A read that raced a cryptographic erase decrypts to noise: erased data. */
	if (outer->op == BACKEND_OP_READ && res >= 0 &&
	    bs_crypt_xts(c, false, outer->offset, outer->buf, outer->buf, outer->len) < 0)
		res = -EIO;
	if (res < 0)
		c->be.stats.errors++;
	bs_crypt_req_put(c, r);
	outer->done(outer, res);
}

static int bs_crypt_submit(struct backend *be, struct backend_io *io)
{
	struct bs_crypt *c = (struct bs_crypt *)be;
	bool write = io->op == BACKEND_OP_WRITE;
	struct bs_crypt_req *r;
	int ret = -EINVAL;

	if ((io->op == BACKEND_OP_READ || write) &&
	    (io->offset % BS_CRYPT_UNIT || io->len % BS_CRYPT_UNIT))
		return ret;
	r = bs_crypt_req_get(c, write ? (size_t)io->len : 0);
	if (!r)
		return -ENOMEM;
	r->outer = io;
	memset(&r->io, 0, sizeof(r->io));
	r->io.op = io->op;
	r->io.flags = io->flags;
	r->io.offset = io->op == BACKEND_OP_FLUSH ? 0 : io->offset + BS_CRYPT_HDR_AREA;
	r->io.len = io->len;
	r->io.buf = write ? r->bounce : io->buf;
	r->io.done = bs_crypt_io_done;
	if (write) {
		ret = bs_crypt_xts(c, true, io->offset, io->buf, r->bounce, io->len);
		if (ret < 0)
			goto out;
	}
	ret = backend_submit(c->inner, &r->io);
	if (ret == 0 && write)
		c->writes_inflight++;
out:
	if (ret < 0)
		bs_crypt_req_put(c, r);
	return ret;
}

/* ---- the rest of the vtable -------------------------------------------- */

/* Free \p c and close the store under it. Accepts NULL. */
static void bs_crypt_destroy(struct bs_crypt *c)
{
	struct bs_crypt_req *r;

	if (!c)
		return;
	while ((r = c->free_list)) {
		c->free_list = r->next_free;
		free(r->bounce);
		free(r);
	}
	EVP_CIPHER_CTX_free(c->enc);
	EVP_CIPHER_CTX_free(c->dec);
	OPENSSL_cleanse(c->kek, sizeof(c->kek));
	if (c->hdr_fd >= 0)
		close(c->hdr_fd);
	backend_close(c->inner);
	free(c->path);
	free(c);
}

static void bs_crypt_close(struct backend *be)
{
	bs_crypt_destroy((struct bs_crypt *)be);
}

static int bs_crypt_flush_sync(struct backend *be)
{
	return backend_flush_sync(((struct bs_crypt *)be)->inner);
}

static int bs_crypt_map_query(struct backend *be, uint64_t offset, bool *mapped, uint64_t *len)
{
	struct bs_crypt *c = (struct bs_crypt *)be;
	int ret;

	ret = backend_map_query(c->inner, offset + BS_CRYPT_HDR_AREA, mapped, len);
	if (ret == 0 && *len > be->size - offset)
		*len = be->size - offset;
	return ret;
}

static int bs_crypt_size_refresh(struct backend *be)
{
	struct bs_crypt *c = (struct bs_crypt *)be;
	int ret;

	ret = backend_size_refresh(c->inner);
	if (ret == 0) {
		if (backend_size(c->inner) < BS_CRYPT_HDR_AREA + BS_CRYPT_UNIT)
			ret = -EINVAL;
		else
			be->size = backend_size(c->inner) - BS_CRYPT_HDR_AREA;
	}
	return ret;
}

/*
 * SBC-3 4.11.4 cryptographic erase: replace the MEK. Blocking (two small
 * synchronous writes and fdatasyncs); writes in flight were encrypted with
 * the old key, so the caller must let them finish first (-EBUSY).
 */
static int bs_crypt_crypto_erase(struct backend *be)
{
	struct bs_crypt *c = (struct bs_crypt *)be;
	uint8_t mek[BS_CRYPT_MEK_LEN];
	unsigned int old = c->slot;
	int ret;

	if (be->readonly)
		return -EROFS;
	if (c->writes_inflight)
		return -EBUSY;
	ret = bs_crypt_mek_new(mek);
	if (ret < 0)
		goto out;
	ret = bs_crypt_slot_write(c, !old, c->generation + 1, mek);
	if (ret < 0)
		goto out;
	/* The new key is durable: from here on it is the key, whatever follows. */
	c->slot = !old;
	c->generation++;
	ret = bs_crypt_rekey(c, mek);
	if (ret == 0)
		ret = bs_crypt_slot_wipe(c, old);
	qb_log(ret < 0 ? LOG_ERR : LOG_NOTICE, "%s: cryptographic erase, key generation %llu%s%s",
	       c->path, (unsigned long long)c->generation, ret < 0 ? ": " : "",
	       ret < 0 ? strerror(-ret) : "");
out:
	OPENSSL_cleanse(mek, sizeof(mek));
	return ret;
}

const struct backend_ops backend_crypt_ops = {
	.name = "crypt",
	.close = bs_crypt_close,
	.submit = bs_crypt_submit,
	.flush_sync = bs_crypt_flush_sync,
	.map_query = bs_crypt_map_query,
	.size_refresh = bs_crypt_size_refresh,
	.crypto_erase = bs_crypt_crypto_erase,
};

int backend_crypt_wrap(struct backend_engine *eng, const struct backend_config *cfg,
		       struct backend *inner, struct backend **out)
{
	struct bs_crypt *c = NULL;
	int ret = -EINVAL;

	if (!cfg->key_file || !cfg->key_file[0])
		goto out;
	if (inner->ops != &backend_file_ops) {
		ret = -EOPNOTSUPP;
		qb_log(LOG_ERR, "%s: encryption needs a raw file or block device, not a %s image",
		       cfg->path, inner->ops->name);
		goto out;
	}
	if (backend_size(inner) < BS_CRYPT_HDR_AREA + BS_CRYPT_UNIT) {
		qb_log(LOG_ERR, "%s: too small for an encrypted LUN (the header takes 1 MiB)",
		       cfg->path);
		goto out;
	}
	ret = -ENOMEM;
	c = calloc(1, sizeof(*c));
	if (!c)
		goto out;
	c->hdr_fd = -1;
	c->path = strdup(cfg->path);
	c->key_file = cfg->key_file;
	c->enc = EVP_CIPHER_CTX_new();
	c->dec = EVP_CIPHER_CTX_new();
	if (!c->path || !c->enc || !c->dec)
		goto out;
	ret = bs_crypt_key_load(cfg->key_file, c->kek);
	if (ret < 0)
		goto out;
	c->hdr_fd = open(cfg->path, (inner->readonly ? O_RDONLY : O_RDWR) | O_CLOEXEC);
	if (c->hdr_fd < 0) {
		ret = -errno;
		goto out;
	}
	ret = bs_crypt_hdr_load(c, inner->readonly);
	if (ret < 0)
		goto out;
	c->be.ops = &backend_crypt_ops;
	c->be.eng = eng;
	c->be.readonly = inner->readonly;
	c->be.caps = backend_caps(inner) | BACKEND_CAP_CRYPTO_ERASE;
	c->be.size = backend_size(inner) - BS_CRYPT_HDR_AREA;
	c->inner = inner;
	c->key_file = NULL;
	inner = NULL;
	*out = &c->be;
	c = NULL;
out:
	bs_crypt_destroy(c);
	backend_close(inner);
	return ret;
}
