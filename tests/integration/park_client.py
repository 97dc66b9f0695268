#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-or-later
"""An initiator that watches what a demotion does to its connection, for
demote_*.sh (docs/ha.md "Planned failover").

    park_client.py --port P --target IQN --initiator IQN --ctl DIR MODE

It logs in (hostile.py's one-PDU login), reads a block, creates DIR/ready,
then waits for the test to create DIR/demoted, watching the socket:

  park    the connection must stay silent and open: no PDU, no FIN, no
          RST. After DIR/demoted it sends a WRITE(10) of one block of 0xA5
          at LBA 8, which must get no answer within 2 s (DIR/silent), then
          after DIR/stopped (the target closed the parked socket: hatgtd
          exited, was promoted again, or held it long enough) still nothing
          for 2 s. Last, a NOP-Out must be answered by an RST: the target's
          TCP forgot the connection without a word.
  park-reset  as park until DIR/stopped (hatgtd was promoted again);
          then, without the client sending anything, an RST must arrive
          within 5 s: the target resets the connections it parked, so
          that initiators waiting for an answer reconnect at once.
  logout  an Async Message asking for a logout (RFC 7143 11.9.1,
          AsyncEvent 1) must arrive before DIR/demoted.

Exit 0 when the target behaved, 1 with a line saying what went wrong.
"""
import argparse
import os
import select
import struct
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
# pylint: disable=wrong-import-position
from hostile import (F_FINAL, F_WRITE, OP_NOP_OUT, RSVD, Closed, Conn,  # noqa: E402
                     Failed, bhs, log)

OP_ASYNC = 0x32
WAIT_S = 30.0
QUIET_S = 2.0


def touch(path):
    with open(path, "w", encoding="ascii"):
        pass


def watch(c, secs, until=None):
    """Watch the socket for secs or until the file until exists.
    \\return None (nothing arrived), "EOF", "reset", or the BHS of a PDU."""
    deadline = time.monotonic() + secs
    while time.monotonic() < deadline:
        if until and os.path.exists(until):
            return None
        r, _, _ = select.select([c.sock], [], [], 0.05)
        if not r:
            continue
        try:
            hdr, _ = c.recv_pdu(5.0)
            return hdr
        except Closed as e:
            return "reset" if "reset" in str(e) else "EOF"
        except TimeoutError:
            return "a partial PDU"
    if until:
        raise Failed(f"{until} did not appear within {secs} s")
    return None


def describe(event):
    if isinstance(event, bytes):
        extra = f", AsyncEvent {event[36]}" if event[0] & 0x3F == OP_ASYNC else ""
        return f"a PDU (opcode 0x{event[0] & 0x3F:02x}{extra})"
    return event


def park(c, ctl, reset=False):
    event = watch(c, WAIT_S, os.path.join(ctl, "demoted"))
    if event is not None:
        raise Failed(f"before the demotion ended the target sent {describe(event)}")
    # A command after the park: never read, never executed, never answered.
    c.scsi_cmd_pdu(bytes([0x2A, 0]) + struct.pack(">IBH", 8, 0, 1), 512, F_WRITE,
                   imm=b"\xa5" * 512)
    event = watch(c, QUIET_S)
    if event is not None:
        raise Failed(f"parked connection: the target sent {describe(event)}")
    log("parked: no answer, no FIN, no RST for 2 s")
    touch(os.path.join(ctl, "silent"))
    if reset:
        event = watch(c, WAIT_S, os.path.join(ctl, "stopped"))
        if event is None:
            event = watch(c, 5.0)
        if event != "reset":
            raise Failed(f"promoted again, the target sent {describe(event) or 'nothing'} "
                         "to the parked connection, not an RST")
        log("promoted again, the target reset the parked connection")
        return
    event = watch(c, WAIT_S, os.path.join(ctl, "stopped"))
    if event is None:
        event = watch(c, QUIET_S)
    if event is not None:
        raise Failed(f"after the parked socket was closed the target sent {describe(event)}")
    log("parked socket closed: still no FIN or RST for 2 s")
    c.send(bhs(OP_NOP_OUT | 0x40, F_FINAL, 0, itt=c.next_itt(), f20=RSVD, f24=c.cmdsn,
               f28=c.exp_statsn))
    event = watch(c, 5.0)
    if event != "reset":
        raise Failed(f"a NOP-Out after the close got {describe(event) or 'nothing'}, not an RST")
    log("a NOP-Out after the close was reset: the target's TCP had forgotten the connection")


def logout(c, ctl):
    event = watch(c, WAIT_S, os.path.join(ctl, "demoted"))
    if not isinstance(event, bytes) or event[0] & 0x3F != OP_ASYNC or event[36] != 1:
        raise Failed(f"expected an Async Message (AsyncEvent 1), got "
                     f"{describe(event) if event else 'nothing'}")
    log("the target asked for a logout (AsyncEvent 1)")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--host", default="127.0.0.1")
    ap.add_argument("--port", type=int, required=True)
    ap.add_argument("--target", required=True)
    ap.add_argument("--initiator", required=True)
    ap.add_argument("--ctl", required=True)
    ap.add_argument("mode", choices=("park", "park-reset", "logout"))
    a = ap.parse_args()
    try:
        c = Conn(a.host, a.port)
        c.login(a.initiator, a.target)
        c.read10(0, 1)
        touch(os.path.join(a.ctl, "ready"))
        if a.mode == "logout":
            logout(c, a.ctl)
        else:
            park(c, a.ctl, reset=a.mode == "park-reset")
    except (Failed, Closed, TimeoutError, OSError) as e:
        log(f"FAIL: {type(e).__name__}: {e}")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
