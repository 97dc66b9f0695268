/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The qcow2 on-disk format (qemu docs/interop/qcow2.txt), as offsets and
 * masks into big-endian byte buffers: read them with get_be32/get_be64.
 * Only bs_qcow2*.c include this.
 */
#ifndef HATGT_BS_QCOW2_SPEC_H
#define HATGT_BS_QCOW2_SPEC_H

#include <stdint.h>

#define QCOW2_MAGIC 0x514649fbu /* "QFI\xfb" */

/* Header field offsets. Versions 2 and 3 share the first 72 bytes. */
#define QCOW2_H_MAGIC 0
#define QCOW2_H_VERSION 4
#define QCOW2_H_BACKING_OFFSET 8 /* u64: backing file name, not NUL-terminated */
#define QCOW2_H_BACKING_SIZE 16	 /* u32: its length (at most 1023) */
#define QCOW2_H_CLUSTER_BITS 20
#define QCOW2_H_SIZE 24 /* u64: virtual disk size in bytes */
#define QCOW2_H_CRYPT_METHOD 32
#define QCOW2_H_L1_SIZE 36   /* u32: entries */
#define QCOW2_H_L1_OFFSET 40 /* u64 */
#define QCOW2_H_RT_OFFSET 48 /* u64: refcount table */
#define QCOW2_H_RT_CLUSTERS 56
#define QCOW2_H_NB_SNAPSHOTS 60
#define QCOW2_H_SNAPSHOTS_OFFSET 64
#define QCOW2_H_V2_LEN 72
/* Version 3 only. */
#define QCOW2_H_INCOMPAT 72
#define QCOW2_H_COMPAT 80
#define QCOW2_H_AUTOCLEAR 88
#define QCOW2_H_REFCOUNT_ORDER 96
#define QCOW2_H_HEADER_LEN 100
#define QCOW2_H_COMPRESSION_TYPE 104 /* u8, present when header_length > 104 */
#define QCOW2_H_V3_LEN 104
#define QCOW2_H_V3_FULL_LEN 112 /* what qemu writes: compression type + padding */

/* Incompatible feature bits: an image with a bit we do not handle is refused. */
#define QCOW2_INCOMPAT_DIRTY (1ull << 0)       /* refcounts may be stale (lazy refcounts) */
#define QCOW2_INCOMPAT_CORRUPT (1ull << 1)     /* metadata known to be corrupt */
#define QCOW2_INCOMPAT_DATA_FILE (1ull << 2)   /* guest data in an external file */
#define QCOW2_INCOMPAT_COMPRESSION (1ull << 3) /* compression type field is not zlib */
#define QCOW2_INCOMPAT_EXTL2 (1ull << 4)       /* extended L2 entries (subclusters) */

/* Header extensions follow the header: u32 type, u32 length, data padded to 8. */
#define QCOW2_EXT_END 0x00000000u
#define QCOW2_EXT_BACKING_FORMAT 0xe2792acau
#define QCOW2_EXT_FEATURE_TABLE 0x6803f857u
#define QCOW2_EXT_BITMAPS 0x23852875u
#define QCOW2_EXT_CRYPTO 0x0537be77u
#define QCOW2_EXT_DATA_FILE 0x44415441u

/* L1 entry: offset of an L2 table (cluster aligned, bits 9-55), COPIED. */
#define QCOW2_L1_OFFSET_MASK 0x00fffffffffffe00ull
/* L2 entry of a standard cluster: host offset (bits 9-55), zero flag (v3). */
#define QCOW2_L2_OFFSET_MASK 0x00fffffffffffe00ull
#define QCOW2_L2_ZERO (1ull << 0)
#define QCOW2_ENTRY_COMPRESSED (1ull << 62)
/*
 * L2 entry of a compressed cluster ("Compressed Clusters Descriptor"): with
 * x = 62 - (cluster_bits - 8), bits 0..x-1 are the host byte offset of the
 * data (not aligned) and bits x..61 the number of additional 512-byte sectors
 * it occupies. The data is a raw deflate stream (RFC 1951, zlib window 2^12)
 * when the header's compression type is zlib (0).
 */
#define QCOW2_COMPRESSED_SECTOR 512u
#define QCOW2_COMPRESSED_WBITS 12
/* Refcount is exactly one: the cluster may be written in place. */
#define QCOW2_ENTRY_COPIED (1ull << 63)
/* Refcount table entry: offset of a refcount block (bits 9-63). */
#define QCOW2_RT_OFFSET_MASK 0xfffffffffffffe00ull

/* qemu accepts 512 bytes to 2 MiB clusters. */
#define QCOW2_MIN_CLUSTER_BITS 9
#define QCOW2_MAX_CLUSTER_BITS 21
#define QCOW2_DEFAULT_CLUSTER_BITS 16
#define QCOW2_DEFAULT_REFCOUNT_ORDER 4 /* 16-bit refcounts */
#define QCOW2_MAX_BACKING_NAME 1023

#endif
