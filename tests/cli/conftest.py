"""The command line as a test drives it: ``picker(*args)`` on a database of each kind."""

from collections.abc import Callable

import pytest

from picker.cli import main

Run = Callable[..., tuple[int, str, str]]


@pytest.fixture
def cli(tmp_path, db_url, monkeypatch, capsys) -> Callable[[str], Run]:  # type: ignore[no-untyped-def]
    """``cli(config_text)`` → ``run(*args)`` → (exit code, stdout, stderr): ``picker --config``
    a file of ``config_text``, on the test's fresh database (PICKER_DATABASE_URL)."""

    def make(config_text: str) -> Run:
        config = tmp_path / "config.toml"
        config.write_text(config_text, encoding="utf-8")
        monkeypatch.setenv("PICKER_DATABASE_URL", db_url)

        def run(*args: str) -> tuple[int, str, str]:
            code = main(["--config", str(config), *args])
            out, err = capsys.readouterr()
            return code, out, err

        return run

    return make
