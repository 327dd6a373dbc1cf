"""Capture files: stream pcap and pcapng records in, write them out."""

from headerkit.captures.reader import CUSTOM_BLOCK, CaptureReader, Interface, read_capture
from headerkit.captures.record import Record
from headerkit.captures.writer import PcapngWriter, PcapWriter, write_capture
from headerkit.errors import CaptureTruncatedError

__all__ = [
    "CUSTOM_BLOCK",
    "CaptureReader",
    "CaptureTruncatedError",
    "Interface",
    "PcapWriter",
    "PcapngWriter",
    "Record",
    "read_capture",
    "write_capture",
]
