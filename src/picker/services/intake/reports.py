"""What an import tells its user: counts, and each problem with file, record, field and reason."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field


@dataclass(frozen=True)
class ImportProblem:
    file: str
    record: int  # 1-based record number, or the CSV line number
    field: str  # the field or column at fault ("" when the record as a whole)
    reason: str

    def __str__(self) -> str:
        where = f"{self.file}:{self.record}"
        return f"{where}: {self.field}: {self.reason}" if self.field else f"{where}: {self.reason}"


@dataclass
class ImportReport:
    """Counts per outcome (e.g. imported, on_hold, already_imported, failed) and the problems."""

    counts: Counter[str] = field(default_factory=Counter)
    problems: list[ImportProblem] = field(default_factory=list)

    def add(self, outcome: str, n: int = 1) -> None:
        self.counts[outcome] += n

    def fail(self, problem: ImportProblem) -> None:
        self.counts["failed"] += 1
        self.problems.append(problem)

    @property
    def failed(self) -> int:
        return self.counts["failed"]
