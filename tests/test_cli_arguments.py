"""Every command answers a bad argument with one clear line: exit status 2 (1 for a failure
at run time), a line starting ``headerkit`` that names the option and its limit, and never
a traceback, a hang or a silent acceptance."""

from __future__ import annotations

import subprocess
import sys

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.conftest import PCAPS

TCP = str(PCAPS / "tcp-hello-world-slow-reader.pcap")
NOWHERE = "/nonexistent-folder/out"

# (arguments, exit status, words the message must hold)
BAD: list[tuple[list[str], int, str]] = [
    # decode
    (["decode"], 2, "required"),
    (["decode", "missing.pcap"], 1, "missing.pcap"),
    (["decode", "--count", "-3", TCP], 2, "--count"),
    (["decode", "--count", "abc", TCP], 2, "--count"),
    (["decode", "--port", "70000", TCP], 2, "65535"),
    (["decode", "--port", "-1", TCP], 2, "--port"),
    (["decode", "--host", "not-an-address", TCP], 2, "--host"),
    (["decode", "--format", "xml", TCP], 2, "--format"),
    (["decode", "--format", "parquet", TCP], 2, "-o"),
    (["decode", "--format", "jsonl", "-o", f"{NOWHERE}.jsonl", TCP], 1, "nonexistent-folder"),
    (["decode", "README.md"], 1, "not a pcap"),
    (["decode", "pcaps"], 1, "pcaps"),
    # flows
    (["flows", "missing.pcap"], 1, "missing.pcap"),
    (["flows", "--format", "xml", TCP], 2, "--format"),
    (["flows", "README.md"], 1, "not a pcap"),
    # follow
    (["follow", TCP, "--stream", "-1"], 2, "--stream"),
    (["follow", TCP, "--stream", "abc"], 2, "--stream"),
    (["follow", TCP, "--stream", "99"], 1, "no TCP stream 99"),
    (["follow", TCP, "--stream", "0", "--frame", "bogus"], 2, "bogus"),
    (["follow", TCP, "--max-buffer", "-5"], 2, "--max-buffer"),
    (["follow", "missing.pcap", "--stream", "0"], 1, "missing.pcap"),
    # plot
    (["plot", TCP], 2, "-o"),
    (["plot", TCP, "--stream", "-2", "-o", "x.png"], 2, "--stream"),
    (["plot", TCP, "--frame", "999", "-o", "x.png"], 1, "no frame 999"),
    (["plot", TCP, "--direction", "3", "-o", "x.png"], 2, "--direction"),
    (["plot", TCP, "-o", f"{NOWHERE}.png"], 1, "nonexistent-folder"),
    (["plot", "missing.pcap", "-o", "x.png"], 1, "missing.pcap"),
    # simulate
    (["simulate", "no-such-scenario"], 2, "no-such-scenario"),
    (["simulate", "hello-world:no-such-variant"], 2, "no-such-variant"),
    (["simulate", "tests/data/unknown-key.toml"], 2, "colour"),
    (["simulate", "tests/data/wrong-type.toml"], 2, "rcvbuf"),
    (["simulate", "tests/data/absurd-size.toml"], 2, "size"),
    (["simulate", "tests/data/absurd-buffer.toml"], 2, "rcvbuf"),
    (["simulate", "tests/data/negative-delay.toml"], 2, "delay"),
    (["simulate", "tests/data/loss-above-one.toml"], 2, "loss"),
    (["simulate", "missing.toml"], 2, "missing.toml"),
    (["simulate", "hello-world", "--pcap", f"{NOWHERE}.pcap"], 1, "nonexistent-folder"),
    (["simulate", "hello-world", "--plot", f"{NOWHERE}.png"], 1, "nonexistent-folder"),
    # replay
    (["replay", "missing.pcap"], 1, "missing.pcap"),
    (["replay", TCP, "--stream", "-1"], 2, "--stream"),
    (["replay", TCP, "--stream", "5"], 1, "no TCP stream 5"),
    (["replay", TCP, "--set", "nope"], 2, "KEY=VALUE"),
    (["replay", TCP, "--set", "colour=1"], 1, "colour"),
    (["replay", TCP, "--drop", "0"], 2, "--drop"),
    (["replay", TCP, "--scenario-out", f"{NOWHERE}.toml"], 1, "nonexistent-folder"),
    # packetdrill
    (["packetdrill"], 2, "required"),
    (["packetdrill", "missing.pkt"], 2, "missing.pkt"),
    # craft
    (
        ["craft", "tcp", "--window", "70000"],
        2,
        "tcp.window: 70000 does not fit the field's 16 bits",
    ),
    (["craft", "tcp", "--sport", "70000"], 2, "16 bits"),
    (["craft", "udp", "--length", "70000"], 2, "udp.length"),
    (["craft", "tcp", "--data-offset", "16"], 2, "4 bits"),
    (["craft", "tcp", "--options-raw", "01" * 44], 2, "over the 40"),
    (["craft", "tcp", "--options-raw", "zz"], 2, "--options-raw"),
    (["craft", "tcp", "--flags", "XYZ"], 2, "flag"),
    (["craft", "tcp", "--src", "999.1.1.1"], 2, "999.1.1.1"),
    (["craft", "tcp", "--seq", "-1"], 2, "tcp.seq"),
    (["craft", "tcp", "--seq", str(2**32)], 2, "32 bits"),
    (["craft", "tcp", "--mss", "70000"], 2, "MSS: 70000 does not fit its 16-bit field"),
    (["craft", "tcp", "--ttl", "300"], 2, "8 bits"),
    (["craft"], 2, "say what to craft"),
    (["craft", "--spec", "missing.toml"], 2, "missing.toml"),
    (["craft", "tcp", "--ip", "nofield=1"], 2, "nofield"),
    (["craft", "tcp", "--ip", "tos=999"], 2, "8 bits"),
    (["craft", "tcp", "--checksum", "0x10000"], 2, "16 bits"),
    (["craft", "tcp", "-o", f"{NOWHERE}.pcap"], 1, "nonexistent-folder"),
    # capture and experiments
    (["capture", "--count", "-1"], 2, "--count"),
    (["experiment", "boundaries", "--recv", "0"], 2, "--recv"),
    (["experiment", "boundaries", "--gap", "-1"], 2, "--gap"),
    (["experiment", "partial-send", "--size", "0"], 2, "--size"),
    (["experiment", "boundaries", "--proto", "sctp"], 2, "--proto"),
    (["experiment", "boundaries", "--host", "192.0.2.1", "--no-capture"], 2, "loopback"),
    (["experiment", "echo", "--recv", "0"], 2, "--recv"),
    (["nosuchcommand"], 2, "invalid choice"),
]


def headerkit(*args: str, timeout: float = 60) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "headerkit", *args],
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
        cwd=PCAPS.parent,
    )


def test_there_are_enough_cases() -> None:
    assert len(BAD) >= 60


@pytest.mark.parametrize(
    ("args", "status", "words"), BAD, ids=[" ".join(a)[:50] for a, _, _ in BAD]
)
def test_a_bad_argument_gets_one_clear_line(args: list[str], status: int, words: str) -> None:
    done = headerkit(*args)
    assert done.returncode == status, done.stderr
    assert "Traceback" not in done.stderr
    lines = [line for line in done.stderr.splitlines() if line.strip()]
    message = [line for line in lines if not line.startswith(("usage:", " "))]
    assert len(message) == 1, done.stderr  # (argparse's usage lines may come before it)
    assert message[0].startswith("headerkit"), message[0]
    assert words in message[0], message[0]


OPTIONS = ["--count", "--port", "--host", "--stream", "--format", "--frame", "-o", "--set"]


@settings(max_examples=40, deadline=None, suppress_health_check=list(HealthCheck))
@given(
    command=st.sampled_from(["decode", "flows", "follow", "plot", "replay", "craft"]),
    tokens=st.lists(
        st.one_of(
            st.sampled_from(OPTIONS), st.integers(-(2**40), 2**40).map(str), st.text(max_size=8)
        ),
        max_size=5,
    ),
)
def test_random_arguments_never_give_a_traceback(command: str, tokens: list[str]) -> None:
    done = headerkit(command, *[t for t in tokens if "\x00" not in t])
    assert "Traceback" not in done.stderr
    assert done.returncode in (0, 1, 2)
