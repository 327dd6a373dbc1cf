"""Run packetdrill scripts against the model: the script plays the remote peer and the
application, the simulator's TCP endpoint plays the local stack.

>>> from headerkit.packetdrill import read_script, run_script
>>> steps = run_script(read_script("tests/packetdrill/hello-world.pkt"))
"""

from __future__ import annotations

from headerkit.packetdrill.parser import parse_script, read_script
from headerkit.packetdrill.runner import Step, run_script, trace_lines

__all__ = ["Step", "parse_script", "read_script", "run_script", "trace_lines"]
