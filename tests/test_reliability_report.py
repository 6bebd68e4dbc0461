"""docs/reliability.md cannot drift from the tests: it names every reliability test, every
test it names exists, and a row whose test is marked xfail says so (and only then)."""

from __future__ import annotations

import importlib
import re
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
DOC = ROOT / "docs" / "reliability.md"
ID = re.compile(r"`(tests/test_reliability_\w+\.py::\w+)(\[[^\]`]*\])?`")
SELF = "tests/test_reliability_report.py"


def rows_of(text: str) -> list[tuple[str, str, str]]:
    """(first, second, proof) cells of every data row of the document's tables."""
    rows = []
    for line in text.splitlines():
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if line.startswith("|") and len(cells) == 3 and cells[2] != "proof" \
                and not set(cells[0]) <= set("-"):
            rows.append((cells[0], cells[1], cells[2]))
    return rows


def problems(text: str, collected: set[str], is_xfail: Callable[[str], bool]) -> list[str]:
    """Everything wrong between the document ``text`` and the collected node ids."""
    rows = rows_of(text)
    if len(rows) < 15:
        return ["the table could not be parsed"]
    out = []
    functions = {c.split("[", 1)[0] for c in collected if not c.startswith(SELF)}
    named: set[str] = set()
    for _first, what, proof in rows:
        for m in ID.finditer(proof):
            node, param = m.group(1), m.group(2) or ""
            named.add(node)
            if (param and node + param not in collected) or (not param and node not in functions):
                out.append(f"names a test that does not exist: {node}{param}")
                continue
            if is_xfail(node) != what.startswith("**xfail**"):
                out.append(f"{node}: xfail in the code and '**xfail**' in its row must agree")
    out += [f"reliability test missing from the table: {f}" for f in sorted(functions - named)]
    return out


def _collected() -> set[str]:
    """Node ids pytest collects from the reliability modules (parameters included)."""
    files = sorted(str(p.relative_to(ROOT)) for p in (ROOT / "tests").glob("test_reliability_*.py"))
    proc = subprocess.run([sys.executable, "-m", "pytest", "--collect-only", "-q", "-p", "no:randomly",
                           *files], cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    return {line.strip() for line in proc.stdout.splitlines() if "::" in line}


def _is_xfail(node: str) -> bool:
    path, name = node.split("::")
    module = importlib.import_module(path.removesuffix(".py").replace("/", "."))
    return any(m.name == "xfail" for m in getattr(getattr(module, name), "pytestmark", []))


@pytest.fixture()
def collected(request: pytest.FixtureRequest) -> set[str]:
    """This session's reliability node ids when it collected them all, else a collect-only run."""
    files = {str(p.relative_to(ROOT)) for p in (ROOT / "tests").glob("test_reliability_*.py")}
    items = {i.nodeid for i in request.session.items if i.nodeid.startswith("tests/test_reliability_")}
    filtered = request.config.getoption("keyword") or request.config.getoption("markexpr")
    if not filtered and {n.split("::")[0] for n in items} >= files:
        return items
    return _collected()


def test_table_and_tests_agree(collected: set[str]) -> None:
    assert len(collected) > 40
    found = problems(DOC.read_text(encoding="utf-8"), collected, _is_xfail)
    assert not found, "docs/reliability.md is out of date:\n" + "\n".join(found)


def test_the_check_catches_drift() -> None:
    text = DOC.read_text(encoding="utf-8")
    collected = {f"tests/test_reliability_{n}.py::test_{n}" for n in "abcdefghijklmnop"}
    rows = "\n".join(f"| x | y | `tests/test_reliability_{n}.py::test_{n}` |" for n in "abcdefghijklmnop")
    assert problems(rows, collected, lambda n: False) == []
    assert problems(rows + "\n| x | y | `tests/test_reliability_a.py::test_gone` |", collected,
                    lambda n: False) == ["names a test that does not exist: "
                                         "tests/test_reliability_a.py::test_gone"]
    assert problems(rows, collected | {"tests/test_reliability_z.py::test_new[p]"},
                    lambda n: False) == ["reliability test missing from the table: "
                                         "tests/test_reliability_z.py::test_new"]
    assert len(problems(rows, collected, lambda n: n.endswith("_a"))) == 1  # xfail not said
    assert problems(text.replace("| proof |", "| proof |\n| a | b | c |"), set(), lambda n: False)
