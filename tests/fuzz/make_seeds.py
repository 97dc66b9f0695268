#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-or-later
"""Write the handcrafted seed inputs of the fuzz targets into corpus/<target>/.

Run from anywhere: python3 tests/fuzz/make_seeds.py. The formats are those
described at the top of each fuzz_*.c. The seeds are committed; rerun this
only after changing a format or adding a seed.
"""
import hashlib
import os
import struct

HERE = os.path.dirname(os.path.abspath(__file__))
INITIATOR = b"iqn.2026-11.org.example:host1"
PREFIX = b"iqn.2026-11.org.example:"
SECRET = b"alice-secret-123"
MUTUAL_SECRET = b"target-secret-456"
# fuzz_login's random_bytes: identifier 0x10, challenge 0x11..0x20
CHAP_ID = 0x10
CHAP_C = bytes(range(0x11, 0x21))


def write(target, name, data):
    d = os.path.join(HERE, "corpus", target)
    os.makedirs(d, exist_ok=True)
    with open(os.path.join(d, name), "wb") as f:
        f.write(data)


def text(*pairs):
    return b"".join(p + b"\0" for p in pairs)


def bhs(op, flags=0, dsl=0, ahs_words=0, rest=b""):
    b = bytearray(48)
    b[0] = op
    b[1] = flags
    b[4] = ahs_words
    b[5:8] = dsl.to_bytes(3, "big")
    b[8:8 + len(rest)] = rest
    return bytes(b)


def pdu_seeds():
    # SCSI Command (READ 10) with an extended-CDB AHS of 16 more bytes
    ahs = struct.pack(">HB", 17, 1) + b"\0" + bytes(16)
    cmd = bhs(0x01, 0xc0, 0, len(ahs) // 4)
    write("fuzz_pdu", "scsi_cmd_ext_cdb", struct.pack(">I", 262144) + b"\x01" + cmd + ahs)
    login = text(b"InitiatorName=" + INITIATOR, b"SessionType=Discovery")
    write("fuzz_pdu", "login_req", struct.pack(">I", 8192) + b"\x02" +
          bhs(0x43, 0x87, len(login)) + login)
    write("fuzz_pdu", "nop_out_ping", struct.pack(">I", 8192) + b"\x01" +
          bhs(0x00, 0x80, 5) + b"hello")
    write("fuzz_pdu", "dslen_over_limit", struct.pack(">I", 512) + b"\x01" + bhs(0x05, 0x80, 4096))


def login_req(flags, data, tsih=0):
    return bytes([flags, 0, 0]) + struct.pack(">H", len(data)) + bytes([tsih, 1]) + data


T, SEC_OP, OP_FFP, SEC_FFP = 0x80, 0x01, 0x07, 0x03


def login_seeds():
    first = [b"InitiatorName=" + INITIATOR, b"SessionType=Normal"]
    ops = text(b"HeaderDigest=CRC32C,None", b"DataDigest=None", b"MaxRecvDataSegmentLength=65536",
               b"ImmediateData=Yes", b"InitialR2T=No", b"MaxBurstLength=262144",
               b"FirstBurstLength=65536", b"ErrorRecoveryLevel=0")
    write("fuzz_login", "normal_one_pdu",
          login_req(T | OP_FFP, text(*first, b"TargetName=" + PREFIX + b"disk1") + ops))
    write("fuzz_login", "normal_two_stages",
          login_req(T | SEC_OP, text(*first, b"TargetName=" + PREFIX + b"disk1",
                                     b"AuthMethod=None")) + login_req(T | OP_FFP, ops))
    write("fuzz_login", "discovery",
          login_req(T | SEC_FFP, text(b"InitiatorName=" + INITIATOR, b"SessionType=Discovery",
                                      b"AuthMethod=None")))
    write("fuzz_login", "not_found",
          login_req(T | OP_FFP, text(*first, b"TargetName=" + PREFIX + b"nosuch")))
    write("fuzz_login", "forbidden",
          login_req(T | OP_FFP, text(*first, b"TargetName=" + PREFIX + b"hidden")))
    r = hashlib.md5(bytes([CHAP_ID]) + SECRET + CHAP_C).hexdigest().encode()
    chap = (login_req(SEC_OP, text(*first, b"TargetName=" + PREFIX + b"chap",
                                   b"AuthMethod=CHAP,None")) +
            login_req(SEC_OP, text(b"CHAP_A=5")))
    write("fuzz_login", "chap_one_way",
          chap + login_req(T | SEC_OP, text(b"CHAP_N=alice", b"CHAP_R=0x" + r)) +
          login_req(T | OP_FFP, ops))
    write("fuzz_login", "chap_mutual",
          chap + login_req(T | SEC_OP, text(b"CHAP_N=alice", b"CHAP_R=0x" + r, b"CHAP_I=7",
                                            b"CHAP_C=0x" + bytes(range(40, 56)).hex().encode())) +
          login_req(T | OP_FFP, ops))
    write("fuzz_login", "chap_wrong_response",
          chap + login_req(T | SEC_OP, text(b"CHAP_N=alice", b"CHAP_R=0x" + b"00" * 16)))
    # Text split over two PDUs with the C bit (6.3, 11.12.2)
    whole = text(*first, b"TargetName=" + PREFIX + b"disk1") + ops
    write("fuzz_login", "continued_text",
          login_req(0x40 | OP_FFP, whole[:20]) + login_req(T | OP_FFP, whole[20:]))


def text_seeds():
    write("fuzz_text", "operational", b"\x03" + text(
        b"HeaderDigest=CRC32C,None", b"DataDigest=None", b"MaxConnections=1",
        b"InitialR2T=No", b"ImmediateData=Yes", b"MaxRecvDataSegmentLength=262144",
        b"MaxBurstLength=16776192", b"FirstBurstLength=262144", b"DefaultTime2Wait=2",
        b"DefaultTime2Retain=0", b"MaxOutstandingR2T=1", b"DataPDUInOrder=Yes",
        b"DataSequenceInOrder=Yes", b"ErrorRecoveryLevel=0", b"X-com.example.Foo=bar",
        b"X#private=1", b"iSCSIProtocolLevel=1", b"TaskReporting=RFC3720"))
    write("fuzz_text", "security", b"\x02" + text(
        b"InitiatorName=" + INITIATOR, b"InitiatorAlias=host1", b"TargetName=" + PREFIX +
        b"disk1", b"SessionType=Normal", b"AuthMethod=CHAP,None", b"CHAP_A=5",
        b"CHAP_C=0bAAECAwQFBgcICQoLDA0ODw==", b"CHAP_R=0x00112233445566778899aabbccddeeff"))
    write("fuzz_text", "hex_numbers", b"\x03" + text(b"MaxBurstLength=0x40000",
                                                      b"FirstBurstLength=0X10000"))
    write("fuzz_text", "unterminated", b"\x01InitiatorName=iqn.x")


def config_seeds():
    with open(os.path.join(HERE, "..", "..", "conf", "hatgt.conf.example"), "rb") as f:
        write("fuzz_config", "example", f.read())
    write("fuzz_config", "minimal", b"[global]\nlisten = 127.0.0.1:3260\n"
          b"[target iqn.2026-11.org.example:disk1]\nlun0 = /tmp/disk1.img\nlun0_size = 1G\n")
    write("fuzz_config", "chap_ipv6", b"[global]\nlisten = [::1]:3260, 127.0.0.1:3261\n"
          b"max_sessions = 16\nlogin_timeout = 5\n"
          b"discovery_chap_user = finder\ndiscovery_chap_secret = findersecret12\n"
          b"[target iqn.2026-11.org.example:disk1]\nalias = one\nlun0 = /tmp/a.img\n"
          b"lun1 = /tmp/b.img\nlun1_readonly = yes\nlun1_block_size = 4096\n"
          b"allow = iqn.1993-08.org.debian:01:host1, iqn.1993-08.org.debian:01:host2\n"
          b"chap_user = alice\nchap_secret = alicesecret12\n"
          b"mutual_user = tgt\nmutual_secret = targetsecret34\n")
    # include of a real directory: /etc's *.conf files are not hatgt configs,
    # so the parse fails with an error that names one of them.
    write("fuzz_config", "include_etc", b"[global]\ninclude = /etc\n")


def cdb_seed(name, mode, edtl, cdb, param=b""):
    cdb = cdb + bytes((32 if mode & 4 else 16) - len(cdb))
    write("fuzz_cdb", name, bytes([mode]) + struct.pack(">I", edtl) + cdb + param)


def cdb_seeds():
    cdb_seed("inquiry", 1, 96, bytes([0x12, 0, 0, 0, 96, 0]))
    cdb_seed("inquiry_vpd83", 1, 255, bytes([0x12, 1, 0x83, 0, 255, 0]))
    cdb_seed("read_capacity16", 1, 32, bytes([0x9e, 0x10]) + bytes(8) + struct.pack(">I", 32))
    cdb_seed("report_luns", 1, 64, bytes([0xa0]) + bytes(5) + struct.pack(">I", 64))
    cdb_seed("test_unit_ready", 0, 0, bytes(6))
    cdb_seed("mode_sense10", 1, 255, bytes([0x5a, 0, 0x3f, 0, 0, 0, 0, 0, 255, 0]))
    cdb_seed("read10", 1, 4096, bytes([0x28, 0]) + struct.pack(">IBH", 8, 0, 8))
    cdb_seed("write10", 2, 1024, bytes([0x2a, 0]) + struct.pack(">IBH", 16, 0, 2), b"\xa5" * 1024)
    cdb_seed("write16_fua", 2, 512, bytes([0x8a, 0x08]) + struct.pack(">QIB", 100, 1, 0),
             b"\x5a" * 512)
    cdb_seed("unmap", 2, 24, bytes([0x42, 0, 0, 0, 0, 0, 0, 0, 24, 0]),
             struct.pack(">HH4x", 22, 16) + struct.pack(">QI4x", 0, 8))
    cdb_seed("write_same16", 2, 512, bytes([0x93, 0x08]) + struct.pack(">QIB", 0, 8, 0),
             bytes(512))
    cdb_seed("pr_out_register", 2, 24, bytes([0x5f, 0x00, 0, 0, 0, 0, 0, 0, 24, 0]),
             bytes(8) + struct.pack(">Q", 0x1234) + bytes(8))
    cdb_seed("pr_in_read_keys", 1, 64, bytes([0x5e, 0x00, 0, 0, 0, 0, 0, 0, 64, 0]))
    cdb_seed("sync_cache10", 0, 0, bytes([0x35, 0, 0, 0, 0, 0, 0, 0, 0, 0]))
    cdb_seed("no_lu_inquiry", 8 | 1, 36, bytes([0x12, 0, 0, 0, 36, 0]))
    cdb_seed("cdb32_variable_length", 4 | 1, 512, bytes([0x7f, 0, 0, 0, 0, 0, 0, 0x18, 0, 0x09]))


if __name__ == "__main__":
    pdu_seeds()
    login_seeds()
    text_seeds()
    config_seeds()
    cdb_seeds()
