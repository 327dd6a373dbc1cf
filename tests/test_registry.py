"""The field registry is the one description of every output field: what the outputs emit
is registered, and a field added as one row appears in every output."""

from __future__ import annotations

import csv
import io
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

from headerkit.captures.decoded import decode_capture
from headerkit.flows.table import annotate
from headerkit.tables.fields import ALIASES
from headerkit.tables.registry import BY_NAME, FIELDS
from headerkit.tables.table import read_table
from headerkit.tables.tshark import tshark_fields
from tests.conftest import ROOT, tshark_rows


def test_names_are_unique_and_every_output_lays_out_the_registered_fields() -> None:
    """What users see (table columns in order, short names, flag columns, the CSV header)
    is the registry's, read from the outputs themselves."""
    assert len(BY_NAME) == len(FIELDS)
    assert len(set(ALIASES.values())) == len(ALIASES)  # an alias names one field
    path = ROOT / "pcaps" / "tcp-hello-world-slow-reader.pcap"
    headers = [f for f in FIELDS if f.table and f.source != "flow"]
    assert read_table(path, engine="arrow").column_names == [f.name for f in headers]
    flows = read_table(path, flows=True, engine="arrow").column_names
    assert flows[len(headers) :] == [f.name for f in FIELDS if f.source == "flow"]
    short = read_table(path, short_names=True, engine="arrow").column_names
    assert short == [f.alias or f.name for f in headers]
    table = read_table(path, engine="arrow")
    syn = table.filter(table.column("tcp.flags").to_numpy() == 0x002)
    flags = {f.name for f in FIELDS if f.flag is not None and syn.column(f.name)[0].as_py()}
    assert flags == {"tcp.flags.syn"}
    done = subprocess.run(
        [sys.executable, "-m", "headerkit", "decode", str(path), "--format", "csv"],
        capture_output=True,
        text=True,
        check=True,
    )
    assert done.stdout.splitlines()[0].split(",") == [f.name for f in FIELDS if f.export]


def test_every_field_an_output_emits_is_registered(corpus: Path) -> None:
    seen: set[str] = set()
    for path in sorted((corpus / "pcaps").glob("*"))[:60]:
        with decode_capture(path) as packets:
            for pkt, extra in annotate(packets):
                header = tshark_fields(pkt)
                for name in header:
                    assert BY_NAME[name].source in ("header", "option", "frame", "packet"), name
                for name in extra:
                    assert BY_NAME[name].source == "flow", name
                seen.update(header, extra)
    # every option row's fields are registered as option fields
    assert {n for n in seen if n.startswith("tcp.options.")} <= {
        f.name for f in FIELDS if f.source == "option"
    }
    assert len(seen) > 60  # the corpus reaches most of the registry


ROW = '    _header("ip.dsfield", "u8", "ip", "tos", "the DS field (DSCP, ECN)", alias="ds"),\n'
ANCHOR = '    _header("ip.ttl",'


def test_a_field_added_as_one_row_appears_in_every_output(tmp_path: Path, corpus: Path) -> None:
    """Copy the package, add ``ip.dsfield`` as one registry row (its extractor: the IPv4
    layer's ``tos`` attribute), and find it in JSONL, CSV, ``-V``, both table engines,
    the short names and the display filter, with tshark's values."""
    copy = tmp_path / "headerkit"
    shutil.copytree(ROOT / "headerkit", copy, ignore=shutil.ignore_patterns("__pycache__"))
    registry = copy / "tables" / "registry.py"
    text = registry.read_text()
    assert text.count(ANCHOR) == 1
    registry.write_text(text.replace(ANCHOR, ROW + ANCHOR))
    path = corpus / "pcaps" / "tcpdump__ssh.pcap"  # three DS values over 54 packets
    want = [int(r["ip.dsfield"], 0) for r in tshark_rows(path, ["ip.dsfield"]) if r["ip.dsfield"]]
    assert want
    env = os.environ | {"PYTHONPATH": str(tmp_path)}

    def run(*args: str) -> str:
        done = subprocess.run(
            [sys.executable, *args],
            capture_output=True,
            text=True,
            env=env,
            check=True,
            cwd=tmp_path,
        )
        return done.stdout

    jsonl = run("-m", "headerkit", "decode", str(path), "--format", "jsonl")
    got = [r["ip.dsfield"] for r in map(json.loads, jsonl.splitlines()) if "ip.dsfield" in r]
    assert got == want
    text = run("-m", "headerkit", "decode", str(path), "--format", "csv")
    table = csv.DictReader(io.StringIO(text))
    assert [int(r["ip.dsfield"]) for r in table if r["ip.dsfield"]] == want
    tree = run("-m", "headerkit", "decode", str(path), "-V", "--count", "50")
    assert f"tos: {want[0]}  [ip.dsfield]" in tree
    script = (
        "import sys; from headerkit import read_table\n"
        "for engine in ('pandas', 'arrow'):\n"
        "    t = read_table(sys.argv[1], engine=engine, short_names=True)\n"
        "    col = t['ds'] if engine == 'pandas' else t.column('ds').to_pandas()\n"
        "    print([int(v) for v in col.dropna()])\n"
        f"print(len(read_table(sys.argv[1], filter='ip.dsfield == {want[0]}')))\n"
    )
    pandas, arrow, filtered = run("-c", script, str(path)).splitlines()
    assert pandas == arrow == str(want)
    assert int(filtered) == want.count(want[0])
