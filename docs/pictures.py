"""Draw the README's pictures into docs/: ``python docs/pictures.py``."""

from __future__ import annotations

from pathlib import Path

import matplotlib

matplotlib.use("Agg")

from headerkit import craft
from headerkit.plots import (
    flow_control,
    header_anatomy,
    simulation_boundaries,
    simulation_time_sequence,
    state_diagram,
)
from headerkit.plots.ladder import draw_ladder, simulation_ladder
from headerkit.plots.simulation import socket_buffers, usable_window
from headerkit.sim import load_scenario, simulate

HERE = Path(__file__).resolve().parent


def save(ax: object, name: str) -> None:
    fig = ax.figure  # type: ignore[attr-defined]
    fig.savefig(HERE / name, dpi=80, bbox_inches="tight")
    print(f"wrote docs/{name}")


def main() -> None:
    syn = craft.tcp(
        sport=40000, dport=80, flags="SA", mss=1460, wscale=7, sack_perm=True, timestamps=(1, 0)
    )
    save(header_anatomy(syn.packet), "anatomy-tcp.png")
    save(
        simulation_boundaries(simulate(load_scenario("hello-world:slow-reader"))), "boundaries.png"
    )
    save(flow_control(simulate(load_scenario("zero-window"))), "flow-control.png")
    save(simulation_time_sequence(simulate(load_scenario("lossy:slow-start"))), "time-sequence.png")
    close = simulate(load_scenario("close:simultaneous"))
    paths = {"a (connects)": close.paths[0], "b (listens)": close.paths[1]}
    save(state_diagram(paths, title="TCP states: a simultaneous close"), "states.png")
    save(draw_ladder(simulation_ladder(simulate(load_scenario("close")))), "ladder.png")
    save(usable_window(simulate(load_scenario("window:switch"))), "usable-window.png")
    save(socket_buffers(simulate(load_scenario("send:sendall")), 0), "socket-buffers.png")


if __name__ == "__main__":
    main()
