"""The simulator: replay send()/recv() calls against modeled TCP (or UDP) endpoints.

>>> from headerkit.sim import load_scenario, simulate
>>> result = simulate(load_scenario("hello-world"))
>>> result.streams[1].recvs
[b'Hell', b'o', b'Worl', b'd', b'']
"""

from headerkit.errors import ScenarioError, SocketError
from headerkit.sim.engine import Result, Simulation, Stream, simulate
from headerkit.sim.network import LinkConfig, Rule
from headerkit.sim.report import summary, timeline
from headerkit.sim.scenario import (
    Call,
    EndpointSpec,
    Scenario,
    builtin_names,
    load_scenario,
    scenario_from_dict,
    scenario_from_toml,
    variants,
)
from headerkit.sim.tcp import TcpConfig, TcpEndpoint
from headerkit.sim.trace import Entry, Kind
from headerkit.sim.udp import UdpConfig, UdpEndpoint

__all__ = [
    "Call",
    "EndpointSpec",
    "Entry",
    "Kind",
    "LinkConfig",
    "Result",
    "Rule",
    "Scenario",
    "ScenarioError",
    "Simulation",
    "SocketError",
    "Stream",
    "TcpConfig",
    "TcpEndpoint",
    "UdpConfig",
    "UdpEndpoint",
    "builtin_names",
    "load_scenario",
    "scenario_from_dict",
    "scenario_from_toml",
    "simulate",
    "summary",
    "timeline",
    "variants",
]
