"""The real kernel as the oracle: the hello-world scenarios replayed on loopback sockets.

Each built-in hello-world variant's calls are run by real client and server threads on
127.0.0.1 with the same timings; the server's recv() results must equal the simulator's.
"""

from __future__ import annotations

import socket
import threading
import time

import pytest

from headerkit.sim import Call, Scenario, load_scenario, simulate, variants


def run_calls(sock: socket.socket, calls: tuple[Call, ...], results: list[bytes]) -> None:
    start = time.monotonic()
    try:
        for call in calls:
            if call.at is not None:
                time.sleep(max(0.0, start + call.at - time.monotonic()))
            if call.op in ("send", "sendall"):
                sock.sendall(call.data)
            elif call.op == "echo":
                while data := sock.recv(call.size):
                    time.sleep(call.seconds)
                    sock.sendall(data)
            elif call.op == "sleep":
                time.sleep(call.seconds)
            elif call.op == "recv":
                flags = socket.MSG_WAITALL if call.waitall else 0
                while True:
                    data = sock.recv(call.size, flags)
                    results.append(data)
                    if not call.loop or not data:
                        break
            elif call.op == "shutdown":
                sock.shutdown(socket.SHUT_WR)
            elif call.op == "close":
                sock.close()
    except (ConnectionResetError, BrokenPipeError):
        pass  # as the simulator shows: the peer closed early and reset
    finally:
        sock.close()


def real_recvs(scenario_name: str, side: int = 1) -> list[bytes]:
    """Run the scenario's calls over real sockets; what one side's recv() calls returned
    (the server's unless ``side`` is 0)."""
    scenario = load_scenario(scenario_name)
    listener = socket.create_server(("127.0.0.1", 0))
    client = socket.create_connection(listener.getsockname())
    server, _ = listener.accept()
    listener.close()
    return run_pair(scenario, client, server)[side]


def run_pair(
    scenario: Scenario, client: socket.socket, server: socket.socket
) -> tuple[list[bytes], list[bytes]]:
    """Each side's calls on its socket, in two threads; what each side's recv()s returned."""
    results: tuple[list[bytes], list[bytes]] = ([], [])
    threads = [
        threading.Thread(target=run_calls, args=(client, scenario.a.calls, results[0])),
        threading.Thread(target=run_calls, args=(server, scenario.b.calls, results[1])),
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    return results


@pytest.mark.parametrize("variant", [None, *variants("hello-world")])
def test_hello_world_matches_the_kernel(variant: str | None) -> None:
    name = "hello-world" if variant is None else f"hello-world:{variant}"
    simulated = simulate(load_scenario(name)).streams[1].recvs
    assert real_recvs(name) == simulated


@pytest.mark.parametrize("variant", [None, *variants("echo")])
def test_the_echo_client_reads_what_the_kernel_gives_it(variant: str | None) -> None:
    name = "echo" if variant is None else f"echo:{variant}"
    simulated = simulate(load_scenario(name)).streams[0].recvs
    assert real_recvs(name, side=0)[: len(simulated)] == simulated
