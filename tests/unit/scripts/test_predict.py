"""scripts.predict as an analyst meets it: a CSV in, a CSV out, and one line for bad input."""

import csv
import subprocess
import sys
from datetime import date, timedelta

import pytest

from scripts import predict


def run(*args):
    return subprocess.run(
        [sys.executable, "-m", "scripts.predict", *args], capture_output=True, text=True, check=False, timeout=120
    )


@pytest.fixture
def log(tmp_path):
    path = tmp_path / "log.csv"
    lines = ["store,customer_id,date,amount"]
    for i in range(120):
        for k in range(1 + i % 4):
            lines.append(f"s1,c{i},{date(2025, 1, 1 + i % 28) + timedelta(days=20 * k)},{5 + i % 7}.50")
    lines.append("s1,late,2025-12-30,3")
    path.write_text("\n".join(lines) + "\n")
    return path


def test_writes_a_row_per_customer_with_history_before_the_cut(log, tmp_path):
    out = tmp_path / "out.csv"
    result = run("--transactions", str(log), "--as-of", "2025-06-30", "--horizon", "30", "--out", str(out))
    assert result.returncode == 0, result.stderr
    rows = list(csv.DictReader(out.open()))
    assert list(rows[0]) == ["customer_id", "p_active", "expected_purchases", "next_purchase_date"]
    assert len(rows) == 120 and "late" not in {r["customer_id"] for r in rows}
    for row in rows:
        assert 0 <= float(row["p_active"]) <= 1 and float(row["expected_purchases"]) >= 0
        assert date.fromisoformat(row["next_purchase_date"]) > date(2025, 6, 30)


def write(tmp_path, text):
    path = tmp_path / "bad.csv"
    path.write_text(text)
    return path


@pytest.mark.parametrize(
    ("content", "horizon", "message"),
    [
        (None, "30", "no such file"),
        ("customer_id,day,amount\nc1,2025-01-01,3\n", "30", "no column date"),
        ("customer_id,date,amount\nc1,2025-01-01,3\nc2,01/02/2025,4\n", "30", "line 3: date '01/02/2025'"),
        ("customer_id,date,amount\nc1,2025-01-01,3\nc1,2025-01-05,three\n", "30", "line 3: amount 'three'"),
        ("customer_id,date,amount\nc1,2025-01-01,nan\n", "30", "line 2: amount 'nan' is not a finite"),
        ("customer_id,date,amount\n,2025-01-01,3\n", "30", "line 2: customer_id is empty"),
        ("customer_id,date,amount\nc1,2025-01-01\n", "30", "line 2: 2 fields"),
        ("customer_id,date,amount\nc1,2025-08-01,3\n", "30", "no rows dated on or before 2025-06-30"),
        ("", "30", "empty file"),
        ("customer_id,date,amount\nc1,2025-01-01,3\n", "-5", "-5 is negative"),
        ("customer_id,date,amount\nc1,2025-01-01,3\n", "a week", "not a whole number"),
    ],
)
def test_bad_input_is_one_line_naming_the_problem(tmp_path, content, horizon, message):
    source = tmp_path / "missing.csv" if content is None else write(tmp_path, content)
    result = run(
        "--transactions", str(source), "--as-of", "2025-06-30", "--horizon", horizon, "--out", str(tmp_path / "o.csv")
    )
    assert result.returncode == 2
    assert message in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1 and "Traceback" not in result.stderr


def test_a_bad_cut_date_is_named(tmp_path, log):
    result = run(
        "--transactions", str(log), "--as-of", "30/06/2025", "--horizon", "7", "--out", str(tmp_path / "o.csv")
    )
    assert result.returncode == 2 and "'30/06/2025' is not a YYYY-MM-DD date" in result.stderr


def test_an_unwritable_output_is_named(log, tmp_path):
    result = run(
        "--transactions", str(log), "--as-of", "2025-06-30", "--horizon", "7", "--out", str(tmp_path / "no" / "o.csv")
    )
    assert result.returncode == 2 and "cannot be written" in result.stderr


def test_progress_goes_to_a_terminal_only(log, tmp_path, capsys):
    assert (
        predict.main(
            ["--transactions", str(log), "--as-of", "2025-06-30", "--horizon", "7", "--out", str(tmp_path / "o.csv")]
        )
        == 0
    )
    assert capsys.readouterr().err == ""  # not a terminal under pytest
