"""``picker print labels`` from the command line, on both databases: what it says, how it exits."""

import pytest

from tests.printing.pdf_reading import read_pages


@pytest.fixture
def picker(cli):  # type: ignore[no-untyped-def]
    """``picker(*args)`` → (exit code, stdout, stderr), on a demo floor without orders."""
    run = cli('[terminal]\nid = "LEAD-1"\n')

    assert run("demo", "--orders", "0", "--no-sheet")[0] == 0
    return run


def test_bin_labels_of_a_range_on_4x6_pages(picker, tmp_path) -> None:
    out_file = tmp_path / "labels" / "bins.pdf"
    code, out, err = picker("print", "labels", "bins", "--from", "B-01-01-1", "--to",
                            "B-01-02-1", "--format", "4x6", "--out", str(out_file))  # fmt: skip
    assert (code, err) == (0, "")
    assert out == f"4 bin labels on 4 pages (4x6) written to {out_file}\n"
    pages = read_pages(out_file.read_bytes())
    assert [p.codes for p in pages] == [["B-01-01-1"], ["B-01-01-2"], ["B-01-01-3"], ["B-01-02-1"]]
    assert {p.size_mm for p in pages} == {(101.6, 152.4)}


def test_nothing_selected_exits_1_in_words_and_writes_no_file(picker, tmp_path) -> None:
    out_file = tmp_path / "none.pdf"
    code, out, err = picker("print", "labels", "bins", "--from", "A-01", "--to", "A-02",
                            "--out", str(out_file))  # fmt: skip
    assert (code, out) == (1, "")
    assert err == "picker: 'A-01' is not a bin code (zone-aisle-bay-level, e.g. A-03-12-2)\n"
    code, out, err = picker("print", "labels", "lanes", "--from", "X", "--out", str(out_file))
    assert (code, out, err) == (1, "", "picker: no courier lanes from X\n")
    assert not out_file.exists()


def test_an_unknown_kind_or_format_is_a_usage_error(picker, tmp_path) -> None:
    with pytest.raises(SystemExit) as exited:
        picker("print", "labels", "pallets", "--out", str(tmp_path / "x.pdf"))
    assert exited.value.code == 2
    with pytest.raises(SystemExit) as exited:
        picker("print", "labels", "totes", "--format", "a5", "--out", str(tmp_path / "x.pdf"))
    assert exited.value.code == 2
