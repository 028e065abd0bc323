"""Who may do what: every use-case that changes the floor checks the operator's roles itself,
whatever called it (a screen, the command line, a script), against one table."""

from __future__ import annotations

import ast
import importlib
import inspect
from pathlib import Path

import pytest

from picker.domain.roles import USE_CASE_ALSO, USE_CASES, NotAllowed, Role
from picker.services.actors import Actor, OperatorInfo, allow
from picker.store.engine import Database

SERVICES = Path(__file__).resolve().parents[2] / "src" / "picker" / "services"


def _use_cases_in_code() -> dict[str, ast.FunctionDef]:
    """Every public service function that takes (db, actor), by its table name: a use-case
    someone acts through."""
    found = {}
    for path in SERVICES.rglob("*.py"):
        module = ".".join(path.relative_to(SERVICES).with_suffix("").parts)
        for node in ast.parse(path.read_text(encoding="utf-8")).body:
            if (
                isinstance(node, ast.FunctionDef)
                and not node.name.startswith("_")
                and [a.arg for a in node.args.args[:2]] == ["db", "actor"]
            ):
                found[f"{module}.{node.name}"] = node
    return found


def test_the_table_names_every_use_case_and_nothing_else() -> None:
    assert set(_use_cases_in_code()) == set(USE_CASES)


def _function(use_case: str):  # type: ignore[no-untyped-def]
    module, _, name = use_case.rpartition(".")
    return getattr(importlib.import_module(f"picker.services.{module}"), name)


def _operator(role: Role) -> Actor:
    return Actor("T09", OperatorInfo(id=99, badge="EMP-0099", name="Test", roles=frozenset({role})))


REFUSALS = [
    (use_case, role)
    for use_case, (_, needed) in sorted(USE_CASES.items())
    for role in Role
    if needed is not None
    and role not in (needed, Role.LEAD)
    and role not in USE_CASE_ALSO.get(use_case, frozenset())
]


@pytest.mark.parametrize(("use_case", "role"), REFUSALS)
def test_each_use_case_refuses_each_role_it_does_not_list_before_touching_anything(
    use_case: str, role: Role, tmp_path: Path
) -> None:
    """Called for real with an operator of the wrong role: refused by name, and before the
    database is touched (its file is never even created)."""
    fn = _function(use_case)
    params = list(inspect.signature(fn).parameters.values())[2:]
    args = [None for p in params if p.kind is p.POSITIONAL_OR_KEYWORD and p.default is p.empty]
    kwargs = {p.name: None for p in params if p.kind is p.KEYWORD_ONLY and p.default is p.empty}
    path = tmp_path / "never.db"
    db = Database(f"sqlite:///{path}")
    words, needed = USE_CASES[use_case]
    with pytest.raises(NotAllowed, match=f"{words} needs the {needed} role"):
        fn(db, _operator(role), *args, **kwargs)
    db.dispose()
    assert not path.exists()


def test_each_use_case_checks_its_own_entry_first() -> None:
    """``allow(actor, "<its own name>")`` before anything else: a use-case checking another's
    entry (with the same words in its refusal) would pass the refusal test above."""
    for use_case, node in _use_cases_in_code().items():
        head = node.body[0]
        docstring = isinstance(head, ast.Expr) and isinstance(head.value, ast.Constant)
        first = node.body[1 if docstring else 0]
        assert ast.unparse(first) == f"allow(actor, '{use_case}')", use_case


@pytest.mark.parametrize("use_case", sorted(USE_CASES))
def test_a_lead_the_listed_role_and_the_command_line_may_run_it(use_case: str) -> None:
    """allow() as the services call it: a lead, an operator of the listed role (or one of the
    roles USE_CASE_ALSO adds; any role where none is listed) and the command line (no
    operator) pass; the other roles do not."""
    _, needed = USE_CASES[use_case]
    also = USE_CASE_ALSO.get(use_case, frozenset())
    allow(Actor("T00"), use_case)  # the command line on the server
    allow(_operator(Role.LEAD), use_case)
    for role in Role:
        if needed is None or role in (needed, Role.LEAD) or role in also:
            allow(_operator(role), use_case)
        else:
            with pytest.raises(NotAllowed):
                allow(_operator(role), use_case)
