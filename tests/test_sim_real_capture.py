"""A slow reader with a small SO_RCVBUF on real loopback sockets, captured, against the model.

Both traces must go through the same phases: the window closes (zero window), the writer
probes, a window update reopens it, and the transfer completes.  Linux probes with a
0-byte segment one below SND.UNA (tshark: keep-alive), the model with one new byte (tshark:
zero-window probe); both count as a probe.  Needs tshark and permission to capture on lo.
"""

from __future__ import annotations

import os
import re
import shutil
import socket
import subprocess
import threading
import time
from pathlib import Path

import pytest

from headerkit.sim import load_scenario, simulate
from headerkit.sim.pcap import write_pcap

TSHARK = shutil.which("tshark")
pytestmark = pytest.mark.skipif(
    TSHARK is None or os.geteuid() != 0, reason="needs tshark and root to capture on lo"
)
PHASE = {
    "tcp.analysis.zero_window": "zero window",
    "tcp.analysis.zero_window_probe": "probe",
    "tcp.analysis.keep_alive": "probe",
    "tcp.analysis.window_update": "window update",
}


def phases(path: Path) -> list[str]:
    """The capture as a sequence of phases, repeats folded, ending with the FIN if seen."""
    assert TSHARK is not None
    fields = ["tcp.flags.fin", *PHASE]
    command = [TSHARK, "-r", str(path), "-T", "fields"]
    for field in fields:
        command += ["-e", field]
    out = subprocess.run(command, capture_output=True, text=True, check=True).stdout
    seen: list[str] = []
    for line in out.splitlines():
        cols = line.split("\t")
        names = [PHASE[f] for f, v in zip(fields[1:], cols[1:], strict=True) if v]
        if cols[0] in ("1", "True"):
            names.append("fin")
        for name in names:
            if not seen or seen[-1] != name:
                seen.append(name)
    return seen


def real_capture(path: Path) -> bytes:
    """Run a writer and a slow 4 KiB-buffer reader on loopback while tshark captures."""
    assert TSHARK is not None
    listener = socket.socket()
    listener.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    listener.bind(("127.0.0.1", 0))
    listener.listen()
    port = listener.getsockname()[1]
    capture = subprocess.Popen(
        [TSHARK, "-i", "lo", "-w", str(path), "-f", f"tcp port {port}"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        deadline = time.monotonic() + 15
        while (not path.exists() or path.stat().st_size < 24) and time.monotonic() < deadline:
            time.sleep(0.1)
        time.sleep(0.5)
        received = bytearray()

        def reader() -> None:
            conn, _ = listener.accept()
            time.sleep(1.0)
            while chunk := conn.recv(1000):
                received.extend(chunk)
                time.sleep(0.3)
            conn.close()

        thread = threading.Thread(target=reader)
        thread.start()
        with socket.create_connection(("127.0.0.1", port)) as writer:
            writer.sendall(bytes(16000))
        thread.join(timeout=30)
        time.sleep(0.5)
    finally:
        capture.terminate()
        capture.wait()
        listener.close()
    return bytes(received)


def test_slow_reader_goes_through_the_same_phases(tmp_path: Path) -> None:
    real_path = tmp_path / "real.pcap"
    assert len(real_capture(real_path)) == 16000
    sim_path = tmp_path / "sim.pcap"
    write_pcap(simulate(load_scenario("zero-window")), sim_path)
    # the window closes and is probed, then reopens; that repeats; then the FINs
    story = re.compile(r"^Z(,P,Z)+,U(,Z(,P,Z)*,U)*,F$")
    short = {"zero window": "Z", "probe": "P", "window update": "U", "fin": "F"}
    for path in (real_path, sim_path):
        assert story.match(",".join(short[p] for p in phases(path))), path.name
