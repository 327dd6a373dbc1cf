"""The modeled TCP endpoint and its parts (see :mod:`headerkit.sim.tcp.endpoint`)."""

from headerkit.sim.tcp.config import TcpConfig, wscale_for
from headerkit.sim.tcp.endpoint import UNKNOWN, SenderView, TcpEndpoint

__all__ = ["UNKNOWN", "SenderView", "TcpConfig", "TcpEndpoint", "wscale_for"]
