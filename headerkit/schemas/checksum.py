"""The Internet checksum (RFC 1071) and the TCP/UDP pseudo-headers of IPv4 and IPv6."""

from __future__ import annotations

import struct
from enum import IntEnum


class ChecksumStatus(IntEnum):
    """A checksum's verdict, numbered as tshark's ``*.checksum.status``."""

    BAD = 0
    GOOD = 1
    UNVERIFIED = 2
    NOT_PRESENT = 3
    ILLEGAL = 4  # a value the field may not hold: a UDP checksum of 0 over IPv6

    @classmethod
    def of_zero_udp_checksum(cls, ip_version: int) -> ChecksumStatus:
        """A UDP checksum of 0: none was sent over IPv4 (RFC 768); over IPv6, where the
        checksum is mandatory (RFC 8200 section 8.1), the value is illegal."""
        return cls.NOT_PRESENT if ip_version == 4 else cls.ILLEGAL


def internet_checksum(data: bytes | bytearray | memoryview, initial: int = 0) -> int:
    """The 16-bit one's complement of the one's complement sum of ``data``.

    ``initial`` is a partial sum (of a pseudo-header) to start from.  Summing a block that
    contains a correct checksum gives 0.
    """
    if len(data) % 2:
        data = bytes(data) + b"\x00"
    # 2**16 = 1 (mod 0xFFFF), so the end-around-carry sum of the 16-bit words is the whole
    # number modulo 0xFFFF, with 0xFFFF (negative zero) standing for any non-zero multiple.
    total = initial + int.from_bytes(data, "big")
    folded = total % 0xFFFF
    if folded == 0 and total:
        folded = 0xFFFF
    return ~folded & 0xFFFF


def pseudo_header_sum(src: bytes, dst: bytes, protocol: int, length: int) -> int:
    """The sum of the pseudo-header over which TCP and UDP checksums are taken.

    IPv4 (RFC 9293 section 3.1): source, destination, zero, protocol, TCP/UDP length.
    IPv6 (RFC 8200 section 8.1): source, destination, 32-bit length, zeros, next header.
    """
    if len(src) == 4:
        header = src + dst + struct.pack(">BBH", 0, protocol, length & 0xFFFF)
    else:
        header = src + dst + struct.pack(">IxxxB", length, protocol)
    return int.from_bytes(header, "big")


def transport_checksum(
    src: bytes, dst: bytes, protocol: int, segment: bytes | bytearray | memoryview
) -> int:
    """The TCP or UDP checksum of ``segment`` (header with its checksum field zero, and data)."""
    return internet_checksum(segment, pseudo_header_sum(src, dst, protocol, len(segment)))
