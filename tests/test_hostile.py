"""Hostile input: only headerkit's own errors escape, lenient mode never raises, and the
work done grows linearly with the input."""

from __future__ import annotations

import os
import shutil
import struct
import subprocess
import sys
import warnings
from collections.abc import Callable
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from fuzz.seeds import crafted
from fuzz.targets import LINKTYPES, capture_target, decode_target
from headerkit.captures.decoded import decode_capture
from headerkit.errors import CaptureFileError, DecodeError
from headerkit.packet.decode import decode
from headerkit.tables.tshark import tshark_fields
from tests.conftest import ROOT

SEEDS = crafted()


@settings(max_examples=400)
@given(linktype=st.sampled_from(LINKTYPES), data=st.binary(max_size=300))
def test_arbitrary_bytes_never_raise_when_lenient(linktype: int, data: bytes) -> None:
    pkt = decode(data, linktype)
    assert all(isinstance(p, DecodeError) and p.offset >= 0 for p in pkt.problems)
    assert repr(pkt) and tshark_fields(pkt)["frame.cap_len"] == len(data)
    try:
        decode(data, linktype, strict=True)
    except DecodeError as err:
        assert err.offset >= 0 and err.layer and err.field


@st.composite
def mutated(draw: st.DrawFn) -> bytes:
    """A valid packet with a few bytes flipped, cut or inserted."""
    raw = bytearray(draw(st.sampled_from(SEEDS)))
    for _ in range(draw(st.integers(1, 6))):
        op = draw(st.sampled_from(["flip", "cut", "insert"]))
        at = draw(st.integers(0, max(0, len(raw) - 1)))
        if op == "flip" and raw:
            raw[at] = draw(st.integers(0, 255))
        elif op == "cut":
            del raw[at:]
        else:
            raw[at:at] = draw(st.binary(min_size=1, max_size=8))
    return bytes(raw)


@settings(max_examples=400)
@given(raw=mutated())
def test_mutated_packets_decode_with_typed_problems(raw: bytes) -> None:
    pkt = decode(raw, 101)
    assert all(isinstance(p, DecodeError) for p in pkt.problems)
    decode_target(bytes([LINKTYPES.index(101)]) + raw)


@settings(max_examples=200)
@given(data=st.binary(max_size=400))
def test_capture_reader_on_arbitrary_bytes(data: bytes) -> None:
    for head in (b"\xd4\xc3\xb2\xa1", b"\x0a\x0d\x0d\x0a", b""):
        capture_target(head + data)


def _calls(fn: Callable[[], object]) -> int:
    """Python-level calls made by ``fn``: a measure of work that does not depend on timing."""
    count = 0

    def profile(frame: object, event: str, arg: object) -> None:
        nonlocal count
        if event == "call":
            count += 1

    sys.setprofile(profile)
    try:
        fn()
    finally:
        sys.setprofile(None)
    return count


@pytest.mark.parametrize(
    ("name", "unit", "linktype"),
    [
        ("vlan tags", b"\x81\x00\x00\x01", 1),  # each tag says another tag follows
        ("mpls labels", b"\x00\x00\x00\x40", None),
        ("ipv6 hop-by-hop chain", b"\x00\x00\x01\x04\x00\x00\x00\x00", None),
        ("tcp nops", b"\x01", None),
    ],
)
def test_work_is_linear_in_hostile_repetition(name: str, unit: bytes, linktype: int | None) -> None:
    def frame(n: int) -> tuple[bytes, int]:
        if name == "vlan tags":
            return bytes(12) + unit * n, 1
        if name == "mpls labels":
            return bytes(12) + b"\x88\x47" + unit * n, 1
        if name == "ipv6 hop-by-hop chain":
            head = struct.pack(">IHBB", 6 << 28, 0, 0, 64) + bytes(32)
            return head + unit * n, 229
        return bytes(SEEDS[0][:32]) + unit * n, 101

    small = _calls(lambda: decode(*frame(200)))
    large = _calls(lambda: decode(*frame(2000)))
    assert large <= 12 * small, (name, small, large)


# Text formats at their size limit, shaped so that work growing as the square of the
# length would take many minutes (each did before it was made linear): every one is refused
# with its typed error well inside the timeout.
HOSTILE_TEXT = {
    "packetdrill: /* comments never closed": ("packetdrill", "/* " * 300_000),
    "packetdrill: a bracket never closed": ("packetdrill", "0 write(3, (" + "\n(x" * 300_000),
    "packetdrill: a %{ block never closed": ("packetdrill", "0 %{" + "\nxx" * 300_000),
    "scenario: a dotted key 100k parts deep": ("scenario", "a" + ".a" * 100_000 + " = 1"),
    "scenario: quoted key parts": ("scenario", '"\\"".' * 100_000 + "x = 1"),
    "scenario: arrays nested 5000 deep": ("scenario", "a = " + "[" * 5000 + "]" * 5000),
    "scenario: inline tables nested 3000 deep": (
        "scenario",
        "a = " + "{b=" * 3000 + "1" + "}" * 3000,
    ),
}
_REFUSE = """
import sys
from headerkit.errors import ScenarioError, ScriptError
from headerkit.packetdrill import parse_script
from headerkit.sim import scenario_from_toml
kind, text = sys.argv[1], sys.stdin.read()
try:
    parse_script(text) if kind == "packetdrill" else scenario_from_toml(text, "v")
except (ScriptError, ScenarioError) as err:
    print(type(err).__name__, str(err)[:200])
"""


@pytest.mark.parametrize("case", HOSTILE_TEXT)
def test_hostile_text_is_refused_in_linear_time(case: str) -> None:
    kind, text = HOSTILE_TEXT[case]
    run = subprocess.run(
        [sys.executable, "-c", _REFUSE, kind],
        input=text,
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,  # linear: about a second; quadratic: more than ten minutes
    )
    assert run.returncode == 0, run.stderr[-2000:]
    error = "ScriptError" if kind == "packetdrill" else "ScenarioError"
    assert run.stdout.startswith(error) and len(run.stdout) < 300, run.stdout[:300]


FUZZ = [sys.executable, "-m", "fuzz.run"]


def test_bounded_fuzz_pass(tmp_path: Path) -> None:
    """A short, bounded atheris run of each target finds nothing."""
    pytest.importorskip("atheris", reason="atheris is not installed")
    from fuzz.targets import TARGETS

    assert {
        "decode",
        "capture",
        "framing",
        "reassembly",
        "scenario",
        "packetdrill",
        "filter",
    } <= set(TARGETS)
    for target in TARGETS:
        run = subprocess.run(
            [*FUZZ, target, "--runs", "20000", "--seed", "1", "--work", str(tmp_path)],
            cwd=ROOT,
            env=os.environ | {"PYTHONHASHSEED": "0"},
            capture_output=True,
            text=True,
            timeout=600,
        )
        assert run.returncode == 0, run.stderr[-2000:]
        assert "Done 20000 runs" in run.stderr


# tshark refuses these files (or the rest of them) where headerkit reads on: pcap link
# types wiretap has no encapsulation for (headerkit keeps such frames as UnknownLink), and
# pcapng options wiretap checks one by one (a length its option kind forbids, one that
# overruns its block); headerkit reads a block's options only for comments and interfaces.
# Files wiretap takes for another format altogether (captype says "mime", say) are left out
# too: headerkit reads only pcap and pcapng.
TSHARK_REFUSES = ("unknown or unsupported", "option length", "handle option")


def _pcap_to_wiretap(path: Path) -> bool:
    """Whether wiretap reads ``path`` as a pcap or pcapng file (``captype``)."""
    kind = subprocess.run(["captype", str(path)], capture_output=True, text=True).stdout
    return "pcap" in kind.rsplit(":", 1)[-1]


def test_files_the_fuzzer_writes_decode_to_as_many_packets_as_tshark_reads(tmp_path: Path) -> None:
    """Nothing lost: over the files a fuzz run leaves behind, headerkit decodes as many
    packets as tshark reads records, and more where it reads on past damage."""
    pytest.importorskip("atheris", reason="atheris is not installed")
    if shutil.which("tshark") is None:
        pytest.skip("tshark not found (CI installs it)")
    subprocess.run(
        [*FUZZ, "capture", "--runs", "20000", "--seed", "1", "--work", str(tmp_path)],
        cwd=ROOT,
        env=os.environ | {"PYTHONHASHSEED": "0"},
        capture_output=True,
        check=True,
        timeout=600,
    )
    files = sorted((tmp_path / "capture").iterdir())
    compared = 0
    for path in files:
        tshark = subprocess.run(
            ["tshark", "-r", str(path), "-T", "fields", "-e", "frame.number"],
            capture_output=True,
            text=True,
        )
        if any(reason in tshark.stderr for reason in TSHARK_REFUSES) or not _pcap_to_wiretap(path):
            continue
        damage = None
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # damage warnings: the count is what is checked
            try:
                capture = decode_capture(path)
                decoded = sum(1 for _ in capture)
                damage = capture.damage
            except CaptureFileError:
                decoded = 0  # not a capture at all
        read = len(tshark.stdout.splitlines())
        # every record tshark reads, and past damage where tshark stops, the intact ones after
        assert decoded == read or (decoded > read and damage is not None), path.name
        compared += 1
    assert compared > 0.5 * len(files) > 20  # the documented refusals stay a minority
