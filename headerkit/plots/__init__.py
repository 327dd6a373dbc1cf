"""Pictures where a picture says more than a table (matplotlib)."""

from headerkit.plots.anatomy import header_anatomy
from headerkit.plots.simulation import boundaries, flow_control, simulation_boundaries
from headerkit.plots.states import state_diagram
from headerkit.plots.timeseq import simulation_time_sequence, time_sequence

__all__ = [
    "boundaries",
    "flow_control",
    "header_anatomy",
    "simulation_boundaries",
    "simulation_time_sequence",
    "state_diagram",
    "time_sequence",
]
