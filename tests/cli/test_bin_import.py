"""``picker bin import`` from the command line, on both databases: what it says, how it exits."""

from pathlib import Path

import pytest


@pytest.fixture
def picker(cli):  # type: ignore[no-untyped-def]
    """``picker(*args)`` → (exit code, stdout, stderr), on a migrated, empty database."""
    run = cli('[terminal]\nid = "LEAD-1"\n')

    return run


def _file(tmp_path: Path, text: str, name: str = "bins.csv") -> str:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return str(path)


def test_a_clean_file_imports_and_again_adds_nothing(picker, tmp_path) -> None:
    path = _file(tmp_path, "code,zone,role\nA-01-01-1,A,\nA-01-02-1,A,reserve\nB-01-01-1,B,\n")
    code, out, err = picker("bin", "import", path)
    assert code == 0 and "bins.csv:" not in err  # only the progress bar
    assert out == "added 3, changed 0, unchanged 0, failed 0\n"
    code, out, _ = picker("bin", "import", path)
    assert code == 0 and out == "added 0, changed 0, unchanged 3, failed 0\n"


def test_refused_lines_are_named_by_line_and_the_exit_status_is_1(picker, tmp_path) -> None:
    path = _file(tmp_path, "code,zone\nA-01-01-1,A\nB-01-01-1,A\nshelf 4,A\n")
    code, out, err = picker("bin", "import", path)
    assert code == 1
    assert out == "added 1, changed 0, unchanged 0, failed 2\n"
    assert "bins.csv:3: zone: bin B-01-01-1 is in zone B by its code, not A" in err
    assert "bins.csv:4: code: bin code 'shelf 4' does not match the bin pattern" in err
    assert "Traceback" not in err


def test_a_file_without_the_zone_column_is_refused_in_words(picker, tmp_path) -> None:
    code, out, err = picker("bin", "import", _file(tmp_path, "code,role\nA-01-01-1,pick\n"))
    assert (code, out) == (1, "")
    assert err.endswith("bins.csv has no column zone: the first line must name the columns "
                        "code, zone; nothing imported\n")  # fmt: skip
    code, out, err = picker("bin", "import", str(tmp_path / "missing.csv"))
    assert code == 1 and "missing.csv: No such file or directory" in err
