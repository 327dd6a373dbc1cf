"""From a capture to the model and back: infer a scenario from a captured TCP stream, run it,
put the replay beside the capture, and ask what-if questions of it.

>>> from headerkit.replay import replay
>>> run = replay("pcaps/tcp-partial-send.pcap", stream=0, settings={"b.rcvbuf": "65536"})
>>> print("\\n".join(run.table()))  # capture, replay and what-if side by side

The inference (:mod:`~headerkit.replay.infer`) reads decoded segments and writes a scenario
table; the simulator never sees a capture.
"""

from __future__ import annotations

import tempfile
import tomllib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, fields
from pathlib import Path
from typing import Any

import tomli_w

from headerkit.captures.decoded import decode_capture
from headerkit.errors import ReplayError
from headerkit.replay.compare import Outline, outline, side_by_side
from headerkit.replay.infer import Inference, infer
from headerkit.replay.segments import Seen, stream_segments
from headerkit.sim import LinkConfig, scenario_from_dict, simulate
from headerkit.sim.pcap import write_pcap
from headerkit.sim.tcp import TcpConfig

__all__ = [
    "Inference",
    "Outline",
    "Replay",
    "ReplayError",
    "Seen",
    "infer",
    "model_segments",
    "replay",
    "stream_segments",
    "to_toml",
    "what_if",
]

ENDPOINT_KEYS = frozenset(f.name for f in fields(TcpConfig))
PATH_KEYS = frozenset(f.name for f in fields(LinkConfig)) - {"rules"}


@dataclass(slots=True)
class Replay:
    """A captured stream, the scenario inferred from it, and the model's runs of it."""

    inference: Inference
    capture: list[Seen]
    model: list[Seen]
    what_if: list[Seen] | None = None
    what_if_scenario: dict[str, Any] | None = None

    def outlines(self) -> dict[str, Outline]:
        found = {"capture": outline(self.capture), "replay": outline(self.model)}
        if self.what_if is not None:
            found["what-if"] = outline(self.what_if)
        return found

    def table(self) -> list[str]:
        """Capture, replay (and what-if) side by side."""
        return side_by_side(self.outlines())


def model_segments(table: Mapping[str, Any]) -> list[Seen]:
    """Run the scenario ``table`` and read its capture back as segments."""
    result = simulate(scenario_from_dict(dict(table)))
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "model.pcap"
        write_pcap(result, path)
        return stream_segments(decode_capture(path), 0)


def what_if(
    table: Mapping[str, Any], settings: Mapping[str, str], drops: Sequence[int] = ()
) -> dict[str, Any]:
    """``table`` with ``settings`` (``KEY=VALUE``: ``a.``/``b.`` for one endpoint, an endpoint
    key alone for both, a path key for both directions) and data segments ``drops`` dropped."""
    changed: dict[str, Any] = {
        key: (dict(value) if isinstance(value, dict) else value) for key, value in table.items()
    }
    changed["path"] = dict(changed.get("path", {}))
    for key, text in settings.items():
        value = _value(key, text)
        side, _, name = key.rpartition(".")
        if side in ("a", "b") and name in ENDPOINT_KEYS:
            changed[side][name] = value
        elif not side and name in ENDPOINT_KEYS:
            changed["a"][name] = changed["b"][name] = value
        elif not side and name in PATH_KEYS:
            changed["path"][name] = value
        else:
            known = ", ".join(sorted(ENDPOINT_KEYS | PATH_KEYS))
            raise ReplayError(f"--set {key}: not a setting (a./b. + endpoint key, or: {known})")
    if drops:
        if any(n < 1 for n in drops):
            raise ReplayError("--drop counts data segments from 1")
        rule = {"action": "drop", "match": "data", "nth": sorted(set(drops))}
        direction = dict(changed["path"].get("a_to_b", {}))
        direction["rules"] = [*direction.get("rules", []), rule]
        changed["path"]["a_to_b"] = direction
    changed["name"] = f"{table.get('name', 'replay')} (what-if)"
    return changed


def _value(key: str, text: str) -> Any:
    try:
        return tomllib.loads(f"v = {text}")["v"]
    except tomllib.TOMLDecodeError:
        raise ReplayError(f"--set {key}={text}: not a number, true/false or quoted text") from None


def replay(
    path: str | Path,
    stream: int = 0,
    *,
    settings: Mapping[str, str] | None = None,
    drops: Sequence[int] = (),
) -> Replay:
    """Infer the scenario of TCP stream ``stream`` in ``path``, run it, and run the what-if
    (when ``settings`` or ``drops`` are given)."""
    captured = stream_segments(decode_capture(path), stream)
    inference = infer(captured, name=f"{Path(path).stem}-stream{stream}")
    run = Replay(inference, captured, model_segments(inference.scenario))
    if settings or drops:
        run.what_if_scenario = what_if(inference.scenario, settings or {}, drops)
        run.what_if = model_segments(run.what_if_scenario)
    return run


def to_toml(table: Mapping[str, Any]) -> str:
    """The scenario table as TOML text, readable by ``headerkit simulate FILE``."""
    return tomli_w.dumps(dict(table))
