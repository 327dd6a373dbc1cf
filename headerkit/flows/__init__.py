"""Connections in a capture: the flow table, connection states, tshark's analysis, reassembly.

* :class:`FlowTable` (``table``): TCP and UDP conversations numbered as tshark's
  ``tcp.stream``/``udp.stream``, their traffic each way, and per TCP segment tshark's
  calculated window, scale factor, relative numbers and ``tcp.analysis.*`` flags
  (:func:`annotate` gives them per packet, under tshark's names);
* :class:`Connection` (``state``): the RFC 9293 state of each side and Zeek's summary;
* :class:`Reassembler` (``reassembly``): one direction's byte stream, with its gaps, overlaps
  and refusals; :func:`follow` both directions of one stream, as ``tshark -z follow``;
* :class:`MessageSplitter` (``messages``): the messages a framer recovers from a stream.
"""

from __future__ import annotations

from headerkit.flows.analysis import SegmentAnalysis, TcpAnalyzer
from headerkit.flows.flags import Analysis
from headerkit.flows.follow import FollowedStream, StreamEvent, StreamFollower, follow
from headerkit.flows.messages import FramingBreak, Message, MessageSplitter
from headerkit.flows.reassembly import Chunk, Event, Gap, Overlap, Reassembler, Refused
from headerkit.flows.state import Connection
from headerkit.flows.table import Endpoint, Flow, FlowTable, Seen, Traffic, annotate
from headerkit.framing import framer_factory
from headerkit.tcp_states import TcpState

__all__ = [
    "Analysis",
    "Chunk",
    "Connection",
    "Endpoint",
    "Event",
    "Flow",
    "FlowTable",
    "FollowedStream",
    "FramingBreak",
    "Gap",
    "Message",
    "MessageSplitter",
    "Overlap",
    "Reassembler",
    "Refused",
    "SegmentAnalysis",
    "Seen",
    "StreamEvent",
    "StreamFollower",
    "TcpAnalyzer",
    "TcpState",
    "Traffic",
    "annotate",
    "follow",
    "framer_factory",
]
