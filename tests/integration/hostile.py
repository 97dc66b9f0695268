#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-or-later
"""A deliberately badly behaved iSCSI initiator for the hostile_*.sh tests.

It speaks just enough of RFC 7143 (login in one PDU, SCSI Command, Data-Out,
NOP-Out) to misbehave precisely. Each scenario checks that the target
answered as the RFC wants (a Reject, a login failure, silence, or closing
the connection) and never hung; it exits 0 when the target behaved, 1 with
a line saying what went wrong otherwise, 2 on bad usage.

    hostile.py --port P --target IQN [--initiator IQN] SCENARIO [options]

Only the standard library; no libiscsi, so nothing filters what we send.
"""
import argparse
import os
import random
import resource
import select
import socket
import struct
import sys
import time

BHS_LEN = 48
OP_NOP_OUT, OP_SCSI_CMD, OP_TMF, OP_LOGIN, OP_TEXT, OP_DATA_OUT, OP_LOGOUT = range(7)
OP_NOP_IN, OP_SCSI_RSP, OP_LOGIN_RSP, OP_DATA_IN, OP_R2T, OP_REJECT = 0x20, 0x21, 0x23, 0x25, 0x31, 0x3F
RSVD = 0xFFFFFFFF
F_FINAL, F_READ, F_WRITE, F_TRANSIT, F_CONT = 0x80, 0x40, 0x20, 0x80, 0x40
SEC, OPER, FFP = 0, 1, 3


class Failed(Exception):
    """The target misbehaved."""


class Closed(Exception):
    """The target closed the connection."""


def log(msg):
    print(f"hostile.py: {msg}", file=sys.stderr, flush=True)


def text(*pairs):
    return b"".join((p.encode() if isinstance(p, str) else p) + b"\0" for p in pairs)


def parse_text(data):
    out = {}
    for pair in data.split(b"\0"):
        if b"=" in pair:
            k, v = pair.split(b"=", 1)
            out[k.decode(errors="replace")] = v.decode(errors="replace")
    return out


def bhs(op, flags=0, dsl=0, ahs_words=0, lun=0, itt=0, f20=0, f24=0, f28=0, tail=b""):
    """A BHS: the common fields, then bytes 20..47 as four words and a tail."""
    b = bytearray(BHS_LEN)
    b[0] = op
    b[1] = flags
    b[4] = ahs_words
    b[5:8] = dsl.to_bytes(3, "big")
    struct.pack_into(">QIIII", b, 8, lun, itt, f20, f24, f28)
    b[32:32 + len(tail)] = tail
    return bytes(b)


def pad4(data):
    return data + b"\0" * (-len(data) % 4)


class Conn:
    def __init__(self, host, port, timeout=10.0, connect=True):
        self.host, self.port, self.timeout = host, port, timeout
        self.sock = None
        self.cmdsn = 1
        self.exp_statsn = 0
        self.itt = 0x100
        self.tsih = 0
        self.max_cmdsn = 0
        self.exp_cmdsn = 0
        if connect:
            self.sock = socket.create_connection((host, port), timeout=timeout)
            self.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

    def close(self):
        if self.sock:
            self.sock.close()
            self.sock = None

    def send(self, raw):
        try:
            self.sock.sendall(raw)
        except (BrokenPipeError, ConnectionResetError) as e:
            raise Closed(str(e)) from e

    def send_pdu(self, hdr, data=b"", ahs=b""):
        self.send(hdr + ahs + pad4(data))

    def recv_exact(self, n, deadline):
        buf = b""
        while len(buf) < n:
            left = deadline - time.monotonic()
            if left <= 0:
                raise TimeoutError
            self.sock.settimeout(left)
            try:
                chunk = self.sock.recv(n - len(buf))
            except socket.timeout as e:
                raise TimeoutError from e
            except ConnectionResetError as e:
                raise Closed("reset") from e
            if not chunk:
                raise Closed("EOF")
            buf += chunk
        return buf

    def recv_pdu(self, timeout=None):
        """\\return (bhs, data). Raises TimeoutError or Closed."""
        deadline = time.monotonic() + (timeout if timeout is not None else self.timeout)
        hdr = self.recv_exact(BHS_LEN, deadline)
        dsl = int.from_bytes(hdr[5:8], "big")
        if hdr[4]:
            self.recv_exact(hdr[4] * 4, deadline)
        data = self.recv_exact(dsl + (-dsl % 4), deadline)[:dsl] if dsl else b""
        op = hdr[0] & 0x3F
        if op in (OP_SCSI_RSP, OP_NOP_IN, OP_LOGIN_RSP, OP_REJECT, OP_R2T) or (
                op == OP_DATA_IN and hdr[1] & 1):
            if op != OP_R2T:
                self.exp_statsn = struct.unpack_from(">I", hdr, 24)[0] + 1
        if op != OP_LOGIN_RSP or self.tsih:
            self.exp_cmdsn, self.max_cmdsn = struct.unpack_from(">II", hdr, 28)
        return hdr, data

    def closed_within(self, secs):
        """True if the target closes the connection within secs (PDUs it
        sends meanwhile are read and dropped)."""
        deadline = time.monotonic() + secs
        try:
            while True:
                self.recv_pdu(max(0.01, deadline - time.monotonic()))
        except Closed:
            return True
        except TimeoutError:
            return False

    def next_itt(self):
        self.itt += 1
        return self.itt

    # ---- login ---------------------------------------------------------
    def login_pdu(self, flags, csg, nsg, data, isid, tsih=0, cmdsn=None, itt=0):
        tail = struct.pack(">II", 0, 0)
        hdr = bytearray(bhs(OP_LOGIN | 0x40, flags | (csg << 2) | nsg, len(data),
                            itt=itt, f20=0, f24=self.cmdsn if cmdsn is None else cmdsn,
                            f28=self.exp_statsn, tail=tail))
        hdr[8:14] = isid
        struct.pack_into(">H", hdr, 14, tsih)
        self.send_pdu(bytes(hdr), data)

    def login(self, initiator, target, isid=b"\x80\x00\x00\x00\x00\x01", extra=(),
              session_type="Normal"):
        """A whole login in one PDU (operational stage straight to full
        feature phase). \\return the target's keys. Raises Failed."""
        keys = ["InitiatorName=" + initiator, "SessionType=" + session_type]
        if session_type == "Normal":
            keys.append("TargetName=" + target)
        keys += ["HeaderDigest=None", "DataDigest=None", "ImmediateData=Yes",
                 "InitialR2T=No", "MaxRecvDataSegmentLength=262144",
                 "FirstBurstLength=65536", "MaxBurstLength=262144", "ErrorRecoveryLevel=0"]
        keys += list(extra)
        self.login_pdu(F_TRANSIT, OPER, FFP, text(*keys), isid)
        hdr, data = self.recv_pdu()
        if hdr[0] & 0x3F != OP_LOGIN_RSP or hdr[36] != 0:
            raise Failed(f"login refused: opcode 0x{hdr[0]:02x} status 0x{hdr[36]:02x}{hdr[37]:02x}")
        if not hdr[1] & F_TRANSIT or hdr[1] & 3 != FFP:
            raise Failed("login did not reach full feature phase in one step")
        self.tsih = struct.unpack_from(">H", hdr, 14)[0]
        self.exp_cmdsn, self.max_cmdsn = struct.unpack_from(">II", hdr, 28)
        self.cmdsn = self.exp_cmdsn
        return parse_text(data)

    # ---- full feature phase -------------------------------------------
    def scsi_cmd_pdu(self, cdb, edtl, flags, imm=b"", cmdsn=None, itt=None, immediate=False,
                     dsl=None, ahs=b""):
        itt = self.next_itt() if itt is None else itt
        sn = self.cmdsn if cmdsn is None else cmdsn
        cdb = cdb + bytes(16 - len(cdb))
        hdr = bhs(OP_SCSI_CMD | (0x40 if immediate else 0), F_FINAL | flags,
                  len(imm) if dsl is None else dsl, len(ahs) // 4, itt=itt, f20=edtl, f24=sn,
                  f28=self.exp_statsn, tail=cdb)
        self.send_pdu(hdr, imm, ahs)
        if cmdsn is None and not immediate:
            self.cmdsn += 1
        return itt

    def wait_response(self, itt, timeout=None):
        """Collect Data-In and the SCSI Response of itt. \\return (status, data)."""
        got = b""
        while True:
            hdr, data = self.recv_pdu(timeout)
            op = hdr[0] & 0x3F
            if op == OP_REJECT:
                raise Failed(f"command rejected, reason 0x{hdr[2]:02x}")
            if struct.unpack_from(">I", hdr, 16)[0] != itt:
                continue
            if op == OP_DATA_IN:
                got += data
                if hdr[1] & 1:
                    return hdr[3], got
            elif op == OP_SCSI_RSP:
                return hdr[3], got
            elif op == OP_R2T:
                raise Failed("unexpected R2T")

    def inquiry(self):
        itt = self.scsi_cmd_pdu(bytes([0x12, 0, 0, 0, 96, 0]), 96, F_READ)
        status, data = self.wait_response(itt)
        if status != 0 or len(data) < 36:
            raise Failed(f"INQUIRY failed: status 0x{status:02x}, {len(data)} bytes")
        return data

    def read10(self, lba, blocks):
        for _ in range(3):  # the first command of a nexus gets a unit attention
            itt = self.scsi_cmd_pdu(bytes([0x28, 0]) + struct.pack(">IBH", lba, 0, blocks),
                                    blocks * 512, F_READ)
            status, data = self.wait_response(itt)
            if status != 0x02:
                break
        if status != 0:
            raise Failed(f"READ(10) failed: status 0x{status:02x}")
        return data

    def nop_ping(self, timeout=5.0):
        """NOP-Out ping; \\return True if the NOP-In came back."""
        itt = self.next_itt()
        self.send_pdu(bhs(OP_NOP_OUT | 0x40, F_FINAL, 0, lun=0, itt=itt, f20=RSVD,
                          f24=self.cmdsn, f28=self.exp_statsn))
        deadline = time.monotonic() + timeout
        while True:
            hdr, _ = self.recv_pdu(max(0.01, deadline - time.monotonic()))
            if hdr[0] & 0x3F == OP_NOP_IN and struct.unpack_from(">I", hdr, 16)[0] == itt:
                return True


# ---- helpers for scenarios ------------------------------------------------

def recv_or_closed(c, what, secs):
    """The next PDU, or None if the target closed the connection; silence
    for secs is a failure."""
    try:
        return c.recv_pdu(secs)
    except Closed:
        return None
    except TimeoutError as e:
        raise Failed(f"{what}: no answer and the connection is still open after {secs} s") from e


def expect_reject_or_close(c, what, secs=5.0):
    """After a bad PDU: a Reject, a login failure, or the connection closed."""
    pdu = recv_or_closed(c, what, secs)
    if pdu is None:
        return "closed"
    hdr = pdu[0]
    op = hdr[0] & 0x3F
    if op == OP_REJECT:
        return f"reject 0x{hdr[2]:02x}"
    if op == OP_LOGIN_RSP and hdr[36] != 0:
        if not c.closed_within(secs):
            raise Failed(f"{what}: login failed but the connection stayed open")
        return f"login failed 0x{hdr[36]:02x}{hdr[37]:02x}"
    raise Failed(f"{what}: unexpected answer opcode 0x{op:02x}")


def expect_login_failure(c, what, cls=None, secs=5.0):
    pdu = recv_or_closed(c, what, secs)
    if pdu is None:
        return "closed"
    hdr, data = pdu
    if hdr[0] & 0x3F != OP_LOGIN_RSP:
        raise Failed(f"{what}: opcode 0x{hdr[0] & 0x3F:02x} instead of a Login Response")
    if hdr[36] == 0:
        if hdr[1] & F_CONT:
            raise Failed(f"{what}: target answered with the C bit and no failure")
        raise Failed(f"{what}: login succeeded ({parse_text(data)})")
    if cls is not None and hdr[36] != cls:
        raise Failed(f"{what}: status class 0x{hdr[36]:02x}, expected 0x{cls:02x}")
    if not c.closed_within(secs):
        raise Failed(f"{what}: connection not closed after the failed login")
    return f"login failed 0x{hdr[36]:02x}{hdr[37]:02x}"


def raise_nofile(n):
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft < n:
        resource.setrlimit(resource.RLIMIT_NOFILE, (min(n, hard), hard))


def isid_of(i):
    return b"\x80" + struct.pack(">IB", i, 1)


def first_login_keys(a, stage_keys=()):
    keys = ["InitiatorName=" + a.initiator, "SessionType=Normal", "TargetName=" + a.target]
    return keys + list(stage_keys)


# ---- scenarios --------------------------------------------------------------

def wait_closed_all(conns, secs):
    """Read and drop whatever the target sends on conns until it has closed
    them all or secs pass. \return the connections still open."""
    left = {c.sock.fileno(): c for c in conns}
    deadline = time.monotonic() + secs
    while left and time.monotonic() < deadline:
        r, _, _ = select.select(list(left), [], [], 0.5)
        for fd in r:
            try:
                data = left[fd].sock.recv(65536)
            except (ConnectionResetError, BlockingIOError):
                data = b""
            if not data:
                del left[fd]
    return list(left.values())


def sc_garbage(a):
    """Random bytes of random lengths on fresh connections at once: the
    target must close each (or reject first) and never hang. A BHS of
    garbage may declare a data segment that never comes: then only the
    login timeout closes it."""
    rng = random.Random(a.seed)
    raise_nofile(a.count + 64)
    conns = []
    for _ in range(a.count):
        c = Conn(a.host, a.port)
        size = rng.choice([1, 47, 48, 49, 100, 1000, 9000, 70000])
        try:
            c.send(bytes(rng.getrandbits(8) for _ in range(size)))
        except Closed:
            c.close()
            continue
        conns.append(c)
    left = wait_closed_all(conns, a.login_timeout + 10)
    for c in conns:
        c.close()
    if left:
        raise Failed(f"{len(left)} of {a.count} connections of garbage still open after "
                     f"{a.login_timeout + 10} s")
    log(f"garbage: {a.count} connections of random bytes closed by the target")


def sc_lengths(a):
    """Absurd DataSegmentLength and TotalAHSLength, during login and in full
    feature phase."""
    # 1. A login request declaring a 16 MiB - 1 data segment (limit 8192).
    c = Conn(a.host, a.port)
    hdr = bytearray(bhs(OP_LOGIN | 0x40, F_TRANSIT | (OPER << 2) | FFP, 0xFFFFFF))
    c.send(bytes(hdr))
    if not c.closed_within(5):
        raise Failed("login with DataSegmentLength 0xffffff: connection not closed")
    c.close()
    # 2. A login request with 1020 bytes of AHS of garbage.
    c = Conn(a.host, a.port)
    keys = text(*first_login_keys(a))
    hdr = bytearray(bhs(OP_LOGIN | 0x40, F_TRANSIT | (OPER << 2) | FFP, len(keys), 255))
    c.send(bytes(hdr) + os.urandom(1020) + pad4(keys))
    # Login Requests define no AHS: skipping it and logging in is as good
    # as refusing, provided the byte stream stays in step.
    try:
        hdr, _ = c.recv_pdu(5)
        res = f"opcode 0x{hdr[0] & 0x3f:02x} status 0x{hdr[36]:02x}{hdr[37]:02x}"
        if hdr[0] & 0x3F == OP_LOGIN_RSP and hdr[36] == 0:
            c.tsih = 1
            c.cmdsn = struct.unpack_from(">I", hdr, 28)[0]
            c.exp_statsn = struct.unpack_from(">I", hdr, 24)[0] + 1
            c.inquiry()
        elif hdr[0] & 0x3F not in (OP_LOGIN_RSP, OP_REJECT):
            raise Failed(f"login with 1020 bytes of AHS: unexpected answer {res}")
    except Closed:
        res = "closed"
    except TimeoutError as e:
        raise Failed("login with 1020 bytes of AHS: no answer within 5 s") from e
    c.close()
    log(f"login with TotalAHSLength 255: {res}")
    # 3. Full feature phase: SCSI Command declaring 16 MiB - 1 of data.
    c = Conn(a.host, a.port)
    c.login(a.initiator, a.target)
    c.scsi_cmd_pdu(bytes([0x2A, 0, 0, 0, 0, 0, 0, 0, 1, 0]), 512, F_WRITE, dsl=0xFFFFFF)
    if not c.closed_within(5):
        raise Failed("SCSI Command with DataSegmentLength 0xffffff: connection not closed")
    c.close()
    # 4. SCSI Command with a malformed AHS list (AHSLength beyond the AHS).
    c = Conn(a.host, a.port)
    c.login(a.initiator, a.target)
    ahs = struct.pack(">HBB", 0xFFF0, 1, 0) + bytes(1016)
    c.scsi_cmd_pdu(bytes([0x12, 0, 0, 0, 96, 0]), 96, F_READ, ahs=ahs)
    res = "closed"
    try:
        hdr, _ = c.recv_pdu(5)
        res = f"opcode 0x{hdr[0] & 0x3f:02x}"
        if hdr[0] & 0x3F not in (OP_REJECT, OP_SCSI_RSP):
            raise Failed(f"malformed AHS: unexpected answer {res}")
        if not c.nop_ping():
            raise Failed("malformed AHS: connection out of step afterwards")
    except Closed:
        pass
    except TimeoutError as e:
        raise Failed("malformed AHS: no answer within 5 s") from e
    c.close()
    log(f"SCSI Command with a malformed AHS: {res}")


def sc_before_login(a):
    """Full-feature PDUs as the first PDU of a connection (11.12: only Login
    Requests before full feature phase): login failure 0x020b, or close."""
    pdus = {
        "SCSI Command": bhs(OP_SCSI_CMD, F_FINAL | F_READ, 0, itt=1, f20=96, f24=1,
                            tail=bytes([0x12, 0, 0, 0, 96, 0])),
        "NOP-Out": bhs(OP_NOP_OUT | 0x40, F_FINAL, 0, itt=1, f20=RSVD, f24=1),
        "Text": bhs(OP_TEXT | 0x40, F_FINAL, 0, itt=1, f20=RSVD, f24=1),
        "Logout": bhs(OP_LOGOUT | 0x40, F_FINAL, 0, itt=1, f24=1),
        "Data-Out": bhs(OP_DATA_OUT, F_FINAL, 512, itt=1, f20=RSVD),
        "Task Management": bhs(OP_TMF | 0x40, F_FINAL | 5, 0, itt=1, f20=RSVD, f24=1),
        "SNACK": bhs(0x10, F_FINAL, 0, itt=1),
        "target opcode 0x21": bhs(OP_SCSI_RSP, F_FINAL, 0, itt=1),
    }
    for name, hdr in pdus.items():
        c = Conn(a.host, a.port)
        dsl = int.from_bytes(hdr[5:8], "big")
        c.send(hdr + bytes(dsl))
        res = expect_reject_or_close(c, f"{name} before login")
        c.close()
        log(f"{name} before login: {res}")


def sc_stages(a):
    """Illegal stage transitions (RFC 7143 6.3, 11.12.3)."""
    keys = text(*first_login_keys(a))
    cases = [
        ("CSG full feature phase", [(F_TRANSIT, FFP, FFP, keys)]),
        ("NSG 2 (reserved)", [(F_TRANSIT, OPER, 2, keys)]),
        ("CSG 2 (reserved)", [(F_TRANSIT, 2, FFP, keys)]),
        ("T bit with NSG back to security", [(F_TRANSIT, OPER, SEC, keys)]),
        ("back from operational to security", [(0, OPER, FFP, keys), (F_TRANSIT, SEC, OPER, b"")]),
        ("T and C bits together", [(F_TRANSIT | F_CONT, OPER, FFP, keys)]),
        ("skip the security stage when CHAP is required",
         [(F_TRANSIT, OPER, FFP, text("InitiatorName=" + a.initiator, "SessionType=Normal",
                                      "TargetName=" + a.chap_target))]),
    ]
    for name, steps in cases:
        c = Conn(a.host, a.port)
        res = None
        for i, (flags, csg, nsg, data) in enumerate(steps):
            c.login_pdu(flags, csg, nsg, data, isid_of(7), itt=i)
            if i < len(steps) - 1:
                hdr, _ = c.recv_pdu()
                if hdr[36] != 0:
                    res = f"failed early 0x{hdr[36]:02x}{hdr[37]:02x}"
                    break
        if res is None:
            res = expect_login_failure(c, name)
        c.close()
        log(f"{name}: {res}")


def sc_keys(a):
    """Oversized and malformed keys during login (6.1, 6.2)."""
    base = first_login_keys(a)
    cases = [
        ("key name of 64 bytes", text(*base, "K" * 64 + "=1")),
        ("key name of 4000 bytes", text(*base, "K" * 4000 + "=1")),
        ("pair without '='", text(*base, "NoEqualsSign")),
        ("empty key name", text(*base, "=value")),
        ("last pair without NUL", text(*base)[:-1]),
        ("key offered twice", text(*base, "MaxBurstLength=65536", "MaxBurstLength=65536")),
        ("300 unknown keys", text(*base, *[f"X-org.example.k{i}=v" for i in range(300)])),
        ("InitiatorName of 300 bytes",
         text("InitiatorName=iqn.2026-11.org.example:" + "a" * 270, "SessionType=Normal",
              "TargetName=" + a.target)),
        ("non-ASCII key", text(*base) + b"K\xff\xfe=1\0"),
        ("MaxRecvDataSegmentLength=0", text(*base, "MaxRecvDataSegmentLength=0")),
        ("SessionType unknown", text("InitiatorName=" + a.initiator, "SessionType=Bogus")),
        ("no InitiatorName", text("SessionType=Normal", "TargetName=" + a.target)),
    ]
    for name, data in cases:
        c = Conn(a.host, a.port)
        if len(data) > 8192:
            raise Failed(f"test bug: {name} longer than one PDU")
        c.login_pdu(F_TRANSIT, OPER, FFP, data, isid_of(8))
        res = expect_login_failure(c, name, cls=0x02)
        c.close()
        log(f"{name}: {res}")
    # Out-of-range values and keys not allowed here may be answered
    # key=Reject (6.2.1) or fail the login.
    for name, key, data in [("MaxBurstLength out of range", "MaxBurstLength",
                             text(*base, "MaxBurstLength=99999999999999")),
                            ("negative number", "FirstBurstLength",
                             text(*base, "FirstBurstLength=-1")),
                            ("SendTargets during login", "SendTargets",
                             text(*base, "SendTargets=All"))]:
        c = Conn(a.host, a.port)
        c.login_pdu(F_TRANSIT, OPER, FFP, data, isid_of(8))
        hdr, rsp = c.recv_pdu()
        if hdr[36] == 0:
            if parse_text(rsp).get(key) != "Reject":
                raise Failed(f"{name}: accepted: {parse_text(rsp)}")
            res = f"{key}=Reject"
        else:
            res = f"login failed 0x{hdr[36]:02x}{hdr[37]:02x}"
        c.close()
        log(f"{name}: {res}")
    # A value of 8193 bytes and 70 KiB of text, both over C-bit PDUs.
    for name, data in [("value of 8193 bytes", text(*base, "X-org.example.v=" + "v" * 8193)),
                       ("70 KiB of text", text(*base, *["X-org.example.p%d=%s" % (i, "p" * 900)
                                                        for i in range(80)]))]:
        c = Conn(a.host, a.port)
        res = None
        chunks = [data[i:i + 8192] for i in range(0, len(data), 8192)]
        for i, chunk in enumerate(chunks):
            last = i == len(chunks) - 1
            c.login_pdu(F_TRANSIT if last else F_CONT, OPER, FFP, chunk, isid_of(9), itt=1)
            if last:
                break
            try:
                hdr, _ = c.recv_pdu(5)
            except Closed:
                res = "closed"
                break
            if hdr[36] != 0:
                res = f"login failed 0x{hdr[36]:02x}{hdr[37]:02x}"
                c.closed_within(5)
                break
        if res is None:
            res = expect_login_failure(c, name)
        c.close()
        log(f"{name}: {res}")
    # A request longer than 8192 bytes in one PDU (6.3).
    c = Conn(a.host, a.port)
    c.login_pdu(F_TRANSIT, OPER, FFP, text(*base, "X-org.example.big=" + "b" * 9000), isid_of(10))
    if not c.closed_within(5):
        raise Failed("login data segment of 9 KiB: connection not closed")
    c.close()
    log("login data segment of 9 KiB: closed")


def sc_data_out(a):
    """Data-Out for tasks that do not exist, and immediate data beyond the
    EDTL; the session stays usable or is closed, never wedged."""
    c = Conn(a.host, a.port)
    c.login(a.initiator, a.target)
    # Data-Out for an unknown ITT.
    c.send_pdu(bhs(OP_DATA_OUT, F_FINAL, 512, itt=0xDEAD, f20=RSVD, f28=c.exp_statsn), bytes(512))
    res = []
    try:
        hdr, _ = c.recv_pdu(2)
        res.append(f"opcode 0x{hdr[0] & 0x3f:02x} reason 0x{hdr[2]:02x}")
    except TimeoutError:
        res.append("ignored")
    except Closed:
        log("Data-Out for an unknown task: closed")
        c.close()
        c = Conn(a.host, a.port)
        c.login(a.initiator, a.target)
    c.inquiry()
    # Data-Out with a TTT we never issued, for a real write in progress.
    before = c.read10(64, 1)
    itt = c.scsi_cmd_pdu(bytes([0x2A, 0]) + struct.pack(">IBH", 64, 0, 1), 512, F_WRITE)
    c.send_pdu(bhs(OP_DATA_OUT, F_FINAL, 512, itt=itt, f20=0x7777, f28=c.exp_statsn,
                   tail=struct.pack(">II", 0, 4096)), b"\x55" * 512)
    try:
        hdr, _ = c.recv_pdu(5)
        res.append(f"bad offset/TTT: opcode 0x{hdr[0] & 0x3f:02x}")
    except (TimeoutError, Closed):
        res.append("bad offset/TTT: no answer")
    c.close()
    # More immediate data than the EDTL (3.2.4.2): rejected, nothing written.
    c = Conn(a.host, a.port)
    c.login(a.initiator, a.target)
    c.scsi_cmd_pdu(bytes([0x2A, 0]) + struct.pack(">IBH", 64, 0, 1), 512, F_WRITE,
                   imm=b"\xEE" * 4096)
    r = expect_reject_or_close(c, "immediate data beyond the EDTL")
    res.append("immediate > EDTL: " + r)
    if r != "closed":
        c.inquiry()
        if c.read10(64, 1) != before:
            raise Failed("a write with immediate data beyond its EDTL changed the block")
    c.close()
    log("data-out: " + "; ".join(res))


def sc_cmdsn(a):
    """Commands outside the CmdSN window are silently dropped (4.2.2.1);
    the window the target advertises stays bounded."""
    c = Conn(a.host, a.port)
    c.login(a.initiator, a.target)
    window = (c.max_cmdsn - c.exp_cmdsn + 1) & 0xFFFFFFFF
    if window == 0 or window > a.max_window:
        raise Failed(f"target advertises a window of {window} commands (max {a.max_window})")
    sent = []
    for off in (1000000, 0x7FFFFFFF, 0x80000000, 0xFFFFFFF0, window + 5):
        sent.append(c.scsi_cmd_pdu(bytes([0x12, 0, 0, 0, 96, 0]), 96, F_READ,
                                   cmdsn=(c.cmdsn + off) & 0xFFFFFFFF))
    try:
        hdr, _ = c.recv_pdu(2)
        if struct.unpack_from(">I", hdr, 16)[0] in sent:
            raise Failed("a command outside the CmdSN window was answered")
    except TimeoutError:
        pass
    c.inquiry()
    # A flood of commands ahead of ExpCmdSN inside the window, never filled:
    # they wait; the gap-filling command releases them.
    gap = c.cmdsn
    itts = [c.scsi_cmd_pdu(bytes([0, 0, 0, 0, 0, 0]), 0, 0, cmdsn=gap + i)
            for i in range(1, min(window, 64))]
    first = c.scsi_cmd_pdu(bytes([0, 0, 0, 0, 0, 0]), 0, 0, cmdsn=gap)
    c.cmdsn = gap + min(window, 64)
    left = set([first] + itts)
    while left:
        hdr, _ = c.recv_pdu()
        if hdr[0] & 0x3F == OP_SCSI_RSP:
            left.discard(struct.unpack_from(">I", hdr, 16)[0])
    c.inquiry()
    c.close()
    log(f"cmdsn: window {window}; 5 out-of-window commands dropped; {len(itts)} sent ahead of "
        "a gap all answered")


def sc_reinstate(a):
    """A storm of session reinstatements: the same initiator and ISID log
    in again and again without logging out; each login closes the previous
    session's connection (6.3.5)."""
    raise_nofile(a.count + 64)
    prev = None
    for i in range(a.count):
        c = Conn(a.host, a.port)
        c.login(a.initiator, a.target, isid=isid_of(42))
        if prev is not None:
            if not prev.closed_within(5):
                raise Failed(f"reinstatement #{i}: the old connection was not closed")
            prev.close()
        prev = c
    prev.inquiry()
    prev.close()
    log(f"reinstate: {a.count} reinstatements, each closed the previous connection")


def sc_slowloris(a):
    """Hundreds of half-open logins: half send a partial BHS, half a first
    Login Request and then nothing. Print 'holding' once all are open, then
    check that the target closes all of them after its login timeout."""
    raise_nofile(a.count + 64)
    conns = []
    for i in range(a.count):
        c = Conn(a.host, a.port)
        if i % 2:
            c.send(bhs(OP_LOGIN | 0x40, 0, 100)[:20])
        else:
            c.login_pdu(0, SEC, OPER, text(*first_login_keys(a), "AuthMethod=None"), isid_of(i))
        conns.append(c)
    print("holding", flush=True)
    start = time.monotonic()
    left = wait_closed_all(conns, a.login_timeout + 10)
    took = time.monotonic() - start
    for c in conns:
        c.close()
    if left:
        raise Failed(f"{len(left)} of {a.count} half-open logins still open after "
                     f"{a.login_timeout + 10} s")
    if took < a.login_timeout - 1:
        raise Failed(f"half-open logins closed after {took:.1f} s, before the login timeout")
    log(f"slowloris: {a.count} half-open logins closed by the target after {took:.1f} s")


def sc_flood(a):
    """A thousand connections at once, each logging in; bounded in time.
    Logins beyond the target's limits must be refused with a login
    response, not by hanging."""
    raise_nofile(a.count + 64)
    start = time.monotonic()
    conns, refused_connect = [], 0
    for i in range(a.count):
        s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        s.setblocking(False)
        try:
            s.connect((a.host, a.port))
        except BlockingIOError:
            pass
        except OSError:
            refused_connect += 1
            s.close()
            continue
        conns.append((i, s))
    # Send each a complete login once its connect finished.
    pending = {s.fileno(): (i, s, b"") for i, s in conns}
    ok = refused = closed = 0
    sent = set()
    deadline = start + a.seconds
    while pending and time.monotonic() < deadline:
        want_w = [fd for fd in pending if fd not in sent]
        r, w, _ = select.select(list(pending), want_w, [], 0.5)
        for fd in w:
            i, s, buf = pending[fd]
            c = Conn(a.host, a.port, connect=False)
            c.sock = s
            keys = text(*first_login_keys(a), "HeaderDigest=None", "DataDigest=None")
            hdr = bytearray(bhs(OP_LOGIN | 0x40, F_TRANSIT | (OPER << 2) | FFP, len(keys),
                                f24=1))
            hdr[8:14] = isid_of(100000 + i)
            try:
                s.setblocking(True)
                s.settimeout(5)
                s.sendall(bytes(hdr) + pad4(keys))
                s.setblocking(False)
            except OSError:
                pass
            sent.add(fd)
        for fd in r:
            i, s, buf = pending[fd]
            try:
                data = s.recv(65536)
            except (BlockingIOError, InterruptedError):
                continue
            except OSError:
                data = b""
            if not data:
                closed += 1
                del pending[fd]
                continue
            buf += data
            pending[fd] = (i, s, buf)
            if len(buf) >= BHS_LEN:
                if buf[36] == 0:
                    ok += 1
                else:
                    refused += 1
                del pending[fd]
    took = time.monotonic() - start
    for _, s in conns:
        s.close()
    log(f"flood: {len(conns)} connections in {took:.1f} s: {ok} logged in, {refused} refused "
        f"by login response, {closed} closed, {refused_connect} connects failed, "
        f"{len(pending)} unanswered")
    if pending:
        raise Failed(f"{len(pending)} logins unanswered after {a.seconds} s")


def sc_bad_logins(a):
    """A flood of failed logins (unknown target): each gets its login
    failure; the log lines they cause are rate-limited (checked by the
    shell script)."""
    for i in range(a.count):
        c = Conn(a.host, a.port)
        c.login_pdu(F_TRANSIT, OPER, FFP, text("InitiatorName=" + a.initiator,
                                               "SessionType=Normal",
                                               "TargetName=" + a.target + "-nosuch"),
                    isid_of(i))
        expect_login_failure(c, f"bad login #{i}", cls=0x02)
        c.close()
    log(f"bad-logins: {a.count} failed logins answered")


def write_no_data(c, edtl, lba=0):
    """A WRITE(10) whose data never comes: it stays outstanding, waiting for
    Data-Out. \return its ITT."""
    return c.scsi_cmd_pdu(bytes([0x2A, 0]) + struct.pack(">IBH", lba, 0, edtl // 512), edtl,
                          F_WRITE)


def expect_task_set_full(c, itt, what):
    while True:
        hdr, _ = c.recv_pdu()
        if hdr[0] & 0x3F == OP_SCSI_RSP and struct.unpack_from(">I", hdr, 16)[0] == itt:
            if hdr[3] != 0x28:
                raise Failed(f"{what}: status 0x{hdr[3]:02x}, expected TASK SET FULL (0x28)")
            return
        if hdr[0] & 0x3F == OP_REJECT:
            raise Failed(f"{what}: rejected (reason 0x{hdr[2]:02x}) instead of TASK SET FULL")


def sc_cmd_limit(a):
    """max_commands_per_session (= --count): one command more gets TASK SET
    FULL; the session stays usable."""
    c = Conn(a.host, a.port)
    c.login(a.initiator, a.target)
    for _ in range(a.count):
        write_no_data(c, 4096)
    itt = write_no_data(c, 4096)
    expect_task_set_full(c, itt, f"command {a.count + 1}")
    c.close()
    log(f"cmd-limit: command {a.count + 1} answered TASK SET FULL")


def sc_mem_limit(a):
    """max_connection_memory_mb (= --count MiB): write buffers beyond it get
    TASK SET FULL, smaller writes still fit."""
    c = Conn(a.host, a.port)
    c.login(a.initiator, a.target)
    big = 8 * 1024 * 1024
    n = a.count * 1024 * 1024 // big
    for i in range(n):
        write_no_data(c, big, lba=i * (big // 512))
    itt = write_no_data(c, big)
    expect_task_set_full(c, itt, f"write buffer {n + 1} of 8 MiB")
    c.close()
    log(f"mem-limit: {n} writes of 8 MiB held, the next answered TASK SET FULL")


def sc_addr_limit(a):
    """max_connections_per_address (= --count): the next connection from the
    same address is closed at once."""
    held = [Conn(a.host, a.port) for _ in range(a.count)]
    time.sleep(0.5)
    extra = Conn(a.host, a.port)
    if not extra.closed_within(3):
        raise Failed(f"connection {a.count + 1} from one address not closed")
    extra.close()
    for c in held:
        if c.closed_within(0.1):
            raise Failed("a connection within the limit was closed")
        c.close()
    log(f"addr-limit: connection {a.count + 1} from one address closed at once")


def sc_target_limit(a):
    """max_sessions_per_target (= --count): the next login to the target
    fails with 0x0302 (out of resources)."""
    held = []
    for i in range(a.count):
        c = Conn(a.host, a.port)
        c.login(a.initiator, a.target, isid=isid_of(500 + i))
        held.append(c)
    c = Conn(a.host, a.port)
    c.login_pdu(F_TRANSIT, OPER, FFP, text(*first_login_keys(a)), isid_of(999))
    hdr, _ = c.recv_pdu()
    if (hdr[36], hdr[37]) != (0x03, 0x02):
        raise Failed(f"login {a.count + 1} to one target: status 0x{hdr[36]:02x}{hdr[37]:02x}, "
                     "expected 0x0302")
    c.close()
    for h in held:
        h.inquiry()
        h.close()
    log(f"target-limit: login {a.count + 1} to one target refused with 0x0302")


SCENARIOS = {
    "garbage": sc_garbage, "lengths": sc_lengths, "before-login": sc_before_login,
    "stages": sc_stages, "keys": sc_keys, "data-out": sc_data_out, "cmdsn": sc_cmdsn,
    "reinstate": sc_reinstate, "slowloris": sc_slowloris, "flood": sc_flood,
    "bad-logins": sc_bad_logins, "cmd-limit": sc_cmd_limit, "mem-limit": sc_mem_limit,
    "addr-limit": sc_addr_limit, "target-limit": sc_target_limit,
}


def main():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--host", default="127.0.0.1")
    p.add_argument("--port", type=int, required=True)
    p.add_argument("--target", required=True)
    p.add_argument("--chap-target", default="")
    p.add_argument("--initiator", default="iqn.2026-11.org.hatgt.test:hostile")
    p.add_argument("--count", type=int, default=20)
    p.add_argument("--seconds", type=float, default=60)
    p.add_argument("--seed", type=int, default=1)
    p.add_argument("--login-timeout", type=float, default=15)
    p.add_argument("--max-window", type=int, default=1024)
    p.add_argument("scenario", choices=sorted(SCENARIOS))
    a = p.parse_args()
    if not a.chap_target:
        a.chap_target = a.target
    try:
        SCENARIOS[a.scenario](a)
    except Failed as e:
        log(f"FAIL: {a.scenario}: {e}")
        return 1
    except (Closed, TimeoutError, ConnectionError) as e:
        log(f"FAIL: {a.scenario}: target closed or went silent unexpectedly: {e!r}")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
