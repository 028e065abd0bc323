"""Login → home → logout, driven through the real app with Textual's pilot."""

from picker.tui.screens.home import HomeScreen
from picker.tui.screens.login import LoginScreen
from tests.tui.conftest import LEAD, PICKER
from tests.tui.helpers import feedback, scan, text_of


async def login(pilot, who=PICKER) -> None:  # type: ignore[no-untyped-def]
    badge, _name, _roles, pin = who
    await scan(pilot, badge)
    await scan(pilot, pin)


async def test_badge_then_pin_opens_home_with_the_operators_stations(app_factory) -> None:
    app = app_factory()
    async with app.run_test(size=(80, 24)) as pilot:
        assert isinstance(app.screen, LoginScreen)
        await scan(pilot, "EMP-0101")
        assert "Hello Zofia Wróbel" in text_of(pilot, "#prompt")
        await scan(pilot, "4821")
        assert isinstance(app.screen, HomeScreen)
        assert app.operator is not None and app.operator.badge == "EMP-0101"
        options = app.screen.query_one("#stations").options
        assert [str(o.prompt) for o in options] == ["Picker queue", "Stock counts"]
        assert [o.id for o in options] == ["picking", "counting"]
        assert not any(o.disabled for o in options)  # both open


async def test_a_lead_sees_every_station_and_markup_in_a_name_is_shown_literally(
    app_factory,
) -> None:
    app = app_factory()
    async with app.run_test(size=(80, 24)) as pilot:
        await login(pilot, LEAD)
        assert isinstance(app.screen, HomeScreen)
        assert "Łucja [b]Kowalska[/b] (EMP-0102)" in text_of(pilot, "#who")
        options = app.screen.query_one("#stations").options
        assert [o.id for o in options] == [
            "picking", "packing", "handoff", "service", "returns", "receiving", "counting",
        ]  # fmt: skip


async def test_logout_by_the_cmd_logout_scan(app_factory) -> None:
    app = app_factory()
    async with app.run_test(size=(80, 24)) as pilot:
        await login(pilot)
        await scan(pilot, "CMD-LOGOUT")
        assert isinstance(app.screen, LoginScreen)
        assert app.operator is None
        assert feedback(pilot) == ("ok", "Zofia Wróbel logged out")
        assert app.focused.id == "badge"


async def test_logout_by_key(app_factory) -> None:
    app = app_factory()
    async with app.run_test(size=(80, 24)) as pilot:
        await login(pilot)
        await pilot.press("f10")
        await pilot.pause()
        assert isinstance(app.screen, LoginScreen) and app.operator is None


async def test_wrong_pin_is_red_with_the_bell_and_stays_on_the_pin(app_factory) -> None:
    app = app_factory()
    async with app.run_test(size=(80, 24)) as pilot:
        await scan(pilot, "EMP-0101")
        await scan(pilot, "0000")
        assert feedback(pilot) == ("error", "Wrong PIN. 4 tries left before the lock.")
        assert app.bells == 1
        assert isinstance(app.screen, LoginScreen) and app.focused.id == "pin"


async def test_an_unknown_badge_and_a_non_badge_scan_are_refused_loudly(app_factory) -> None:
    app = app_factory()
    async with app.run_test(size=(80, 24)) as pilot:
        await scan(pilot, "EMP-4040")
        assert feedback(pilot) == ("error", "Badge EMP-4040 is not known. Ask your shift lead.")
        await scan(pilot, "4006381333931")
        assert feedback(pilot) == ("error", "That was not a badge. Scan your badge.")
        assert app.bells == 2
        assert app.focused.id == "badge"


async def test_escape_at_the_pin_goes_back_to_the_badge(app_factory) -> None:
    app = app_factory()
    async with app.run_test(size=(80, 24)) as pilot:
        await scan(pilot, "EMP-0101")
        await pilot.press("escape")
        await pilot.pause()
        assert app.focused.id == "badge"
        assert text_of(pilot, "#prompt") == "Scan your badge"


async def test_a_lockout_on_one_terminal_holds_on_another(app_factory, floor_url) -> None:
    first, second = app_factory(floor_url), app_factory(floor_url)
    async with first.run_test(size=(80, 24)) as pilot:
        await scan(pilot, "EMP-0101")
        for _ in range(5):
            await scan(pilot, "1111")
        kind, text = feedback(pilot)
        assert kind == "error" and "now locked for 5 min" in text
        assert pilot.app.focused.id == "badge"  # back to the start
    async with second.run_test(size=(80, 24)) as pilot:
        await scan(pilot, "EMP-0101")
        kind, text = feedback(pilot)
        assert kind == "error" and "is locked after too many wrong PINs" in text
        assert isinstance(second.screen, LoginScreen) and second.focused.id == "badge"


async def test_an_unrelated_scan_at_home_is_refused_and_keeps_the_operator(app_factory) -> None:
    app = app_factory()
    async with app.run_test(size=(80, 24)) as pilot:
        await login(pilot)
        await scan(pilot, "T-0001")
        kind, text = feedback(pilot)
        assert kind == "error" and text.startswith("T-0001: nothing to do")
        assert isinstance(app.screen, HomeScreen)


async def test_customer_service_sees_only_its_desk_and_enter_opens_it(app_factory) -> None:
    from tests.tui.conftest import SERVICE

    app = app_factory()  # a terminal of the picking station: not theirs
    async with app.run_test(size=(80, 24)) as pilot:
        await login(pilot, SERVICE)
        assert isinstance(app.screen, HomeScreen)
        assert [o.id for o in app.screen.query_one("#stations").options] == ["service"]
        await pilot.press("enter")
        await pilot.pause()
        assert type(app.screen).__name__ == "ServiceScreen"
