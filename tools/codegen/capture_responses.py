#!/usr/bin/env python3
"""Captures real broker responses for the codec tests (tests/data/codec/broker_*.hex).

Usage: capture_responses.py HOST:PORT [--out tests/data/codec]

Talks to a real broker (e.g. `python3 rig/kafkarig.py start --dir /tmp/gen-rig`, PLAINTEXT
listener) with hand-built requests, and stores each response body (after the response
header) as hex. Sequence: ApiVersions v0 and v3, CreateTopics v7 ("codec-capture", 1
partition), Metadata v12 and v8, Produce v9 and v3 (one record batch each), Fetch v12 and v4.
The tests in tests/unit/codec_test.cpp check the values this script puts in (topic name,
record bytes, offsets). Standard library only.
"""

import argparse
import os
import socket
import struct
import sys

TOPIC = "codec-capture"
CLIENT_ID = "asiokafka-capture"


def crc32c(data):
    poly = 0x82F63B78
    crc = 0xFFFFFFFF
    for b in data:
        crc ^= b
        for _ in range(8):
            crc = (crc >> 1) ^ (poly if crc & 1 else 0)
    return crc ^ 0xFFFFFFFF


def uvarint(n):
    out = bytearray()
    while n >= 0x80:
        out.append((n & 0x7F) | 0x80)
        n >>= 7
    out.append(n)
    return bytes(out)


def varint(n):
    return uvarint((n << 1) ^ (n >> 63))


def record_batch(value, timestamp=1_700_000_000_000):
    """A v2 record batch with one record (key null) and no compression."""
    body = b"\x00" + varint(0) + varint(0) + varint(-1) + varint(len(value)) + value + varint(0)
    record = varint(len(body)) + body
    after_crc = struct.pack(">hiqqqhii", 0, 0, timestamp, timestamp, -1, -1, -1, 1) + record
    crc = crc32c(after_crc)
    batch_len = 4 + 1 + 4 + len(after_crc)  # partition leader epoch, magic, crc, rest
    return struct.pack(">qiibI", 0, batch_len, -1, 2, crc) + after_crc


def s16(s):
    b = s.encode()
    return struct.pack(">h", len(b)) + b


def cstr(s):
    b = s.encode()
    return uvarint(len(b) + 1) + b


def cbytes(b):
    return uvarint(len(b) + 1) + b


class Conn:
    def __init__(self, addr):
        host, port = addr.rsplit(":", 1)
        self.sock = socket.create_connection((host, int(port)), timeout=10)
        self.corr = 0

    def call(self, api_key, version, body, flexible_request, flexible_response):
        self.corr += 1
        header = struct.pack(">hhi", api_key, version, self.corr) + s16(CLIENT_ID)
        if flexible_request:
            header += b"\x00"
        frame = header + body
        self.sock.sendall(struct.pack(">i", len(frame)) + frame)
        size = struct.unpack(">i", self.recv(4))[0]
        resp = self.recv(size)
        corr = struct.unpack(">i", resp[:4])[0]
        assert corr == self.corr, (corr, self.corr)
        rest = resp[4:]
        if flexible_response:
            assert rest[0] == 0, "response header tagged fields"
            rest = rest[1:]
        return rest

    def recv(self, n):
        out = b""
        while len(out) < n:
            chunk = self.sock.recv(n - len(out))
            if not chunk:
                raise EOFError("connection closed")
            out += chunk
        return out


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("address")
    ap.add_argument("--out", default=os.path.join(os.path.dirname(__file__), "../../tests/data/codec"))
    args = ap.parse_args()
    c = Conn(args.address)
    captured = {}

    captured["api_versions_v0"] = c.call(18, 0, b"", False, False)
    captured["api_versions_v3"] = c.call(18, 3, cstr("asiokafka") + cstr("0.1.0") + b"\x00", True, False)

    # CreateTopics v7: topics[name, partitions 1, replication 1, no assignments, no configs],
    # timeout 10 s, validate_only false.
    topic = cstr(TOPIC) + struct.pack(">ih", 1, 1) + uvarint(1) + uvarint(1) + b"\x00"
    c.call(19, 7, uvarint(2) + topic + struct.pack(">i?", 10000, False) + b"\x00", True, True)

    # Metadata v12: topics [{topic_id zero, name}], allow auto creation false,
    # include topic authorized operations false.
    md_topic = bytes(16) + cstr(TOPIC) + b"\x00"
    captured["metadata_v12"] = c.call(3, 12, uvarint(2) + md_topic + b"\x00\x00" + b"\x00", True, True)
    # Metadata v8 (non-flexible): same topic, auto creation false, no authorized operations.
    captured["metadata_v8"] = c.call(3, 8, struct.pack(">i", 1) + s16(TOPIC) + b"\x00\x00\x00", False, False)

    # Produce v9: transactional_id null, acks -1, timeout 10 s, one batch to partition 0.
    batch = record_batch(b"hello-v9")
    part = struct.pack(">i", 0) + cbytes(batch) + b"\x00"
    tdata = cstr(TOPIC) + uvarint(2) + part + b"\x00"
    body = uvarint(0) + struct.pack(">hi", -1, 10000) + uvarint(2) + tdata + b"\x00"
    captured["produce_v9"] = c.call(0, 9, body, True, True)
    # Produce v3 (non-flexible): a second batch.
    batch = record_batch(b"hello-v3")
    body = (struct.pack(">hhi", -1, -1, 10000) + struct.pack(">i", 1) + s16(TOPIC)
            + struct.pack(">ii", 1, 0) + struct.pack(">i", len(batch)) + batch)
    captured["produce_v3"] = c.call(0, 3, body, False, False)

    # Fetch v12: replica -1, max wait 100 ms, min bytes 1, max bytes 1 MiB, isolation 0,
    # session 0 epoch -1, topic[partition 0, leader epoch -1, offset 0, last fetched -1,
    # log start -1, max 1 MiB], no forgotten topics, rack "".
    fpart = struct.pack(">iiqiqi", 0, -1, 0, -1, -1, 1 << 20) + b"\x00"
    ftopic = cstr(TOPIC) + uvarint(2) + fpart + b"\x00"
    body = (struct.pack(">iiiibii", -1, 100, 1, 1 << 20, 0, 0, -1) + uvarint(2) + ftopic
            + uvarint(1) + cstr("") + b"\x00")
    captured["fetch_v12"] = c.call(1, 12, body, True, True)
    # Fetch v4 (non-flexible): replica -1, 100 ms, min 1, max 1 MiB, isolation 0,
    # topic[partition 0, offset 0, max 1 MiB].
    body = (struct.pack(">iiiib", -1, 100, 1, 1 << 20, 0) + struct.pack(">i", 1) + s16(TOPIC)
            + struct.pack(">i", 1) + struct.pack(">iqi", 0, 0, 1 << 20))
    captured["fetch_v4"] = c.call(1, 4, body, False, False)

    os.makedirs(args.out, exist_ok=True)
    for name, data in captured.items():
        with open(os.path.join(args.out, f"broker_{name}.hex"), "w") as f:
            f.write(data.hex() + "\n")
        print(f"broker_{name}.hex: {len(data)} bytes")
    return 0


if __name__ == "__main__":
    sys.exit(main())
