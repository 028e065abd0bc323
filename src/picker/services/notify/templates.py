"""The customer's mails: Jinja2 templates, plain text and HTML, one set per language.

The shipped templates live in this package (``templates/LANG/EVENT.subject.txt``, ``EVENT.txt``,
``EVENT.html``, laid out by ``templates/_layout.html``); a folder named in ``[notify]
templates_dir`` with files of the same names takes their place, file by file. HTML is
autoescaped (a customer's name is text, never markup); the text part and the subject are not
HTML and are not escaped (the subject is made fit for a header when the mail is built).

Money, dates and numbers are written in the mail's locale with Babel. A language with no
templates of its own falls back to ``[notify] default_locale``, then to English.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from functools import lru_cache
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from babel import Locale, UnknownLocaleError
from babel.dates import format_date, format_datetime
from babel.numbers import format_currency
from jinja2 import (
    ChoiceLoader,
    Environment,
    FileSystemLoader,
    PackageLoader,
    StrictUndefined,
    Template,
    TemplateError,
    TemplateNotFound,
    select_autoescape,
)

from picker.services.errors import ServiceError

#: The languages Picker ships complete templates for.
SHIPPED_LANGUAGES = ("en", "pl")
#: Each event's three parts.
PARTS = ("subject.txt", "txt", "html")


class TemplateProblem(ServiceError):
    """A template is missing or broken (an override with a typo): the message names it."""


@dataclass(frozen=True)
class Rendered:
    subject: str
    text: str
    html: str
    language: str
    """The language whose templates were used (``en``, ``pl``)."""


@lru_cache(maxsize=8)
def environment(templates_dir: Path | None) -> Environment:
    """The templates of ``templates_dir`` (if any) before the shipped ones."""
    loaders: list[Any] = []
    if templates_dir is not None:
        loaders.append(FileSystemLoader(str(templates_dir)))
    loaders.append(PackageLoader("picker.services.notify", "templates"))
    env = Environment(
        loader=ChoiceLoader(loaders),
        autoescape=select_autoescape(enabled_extensions=("html",), default=False),
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
    )
    return env


def locale_of(tag: str | None, default: str) -> Locale:
    """The Babel locale of a language tag as shops send it (``pl``, ``en-GB``, ``pt_BR``); the
    default's when the tag is empty or unknown."""
    for candidate in (tag, default, "en"):
        if not candidate:
            continue
        try:
            return Locale.parse(candidate.replace("-", "_"))
        except (UnknownLocaleError, ValueError, TypeError):
            continue
    return Locale("en")


def _language(env: Environment, locale: Locale, default: str, event: str) -> str:
    """The first language among the locale's, the default's and English that has the event's
    templates."""
    default_language = locale_of(default, "en").language
    for language in dict.fromkeys((locale.language, default_language, "en")):
        try:
            _template(env, f"{language}/{event}.txt")
        except TemplateNotFound:
            continue
        return language
    raise TemplateProblem(f"no template for the {event} event (looked for en/{event}.txt)")


def _template(env: Environment, name: str) -> Template:
    """The template ``name``; a broken one (a syntax error, a file that is not UTF-8 text) is
    a :class:`TemplateProblem` naming it. A missing one is ``TemplateNotFound``."""
    try:
        return env.get_template(name)
    except TemplateNotFound:
        raise
    except TemplateError as exc:
        raise TemplateProblem(_cannot_use(name, exc)) from None
    except UnicodeDecodeError:
        raise TemplateProblem(
            f"the template {name} cannot be used: it is not UTF-8 text (save it as UTF-8)"
        ) from None


def _cannot_use(name: str, exc: TemplateError) -> str:
    line = getattr(exc, "lineno", None)
    where = f" (line {line})" if line else ""
    return f"the template {name} cannot be used{where}: {exc}"


def render(
    event: str,
    context: Mapping[str, Any],
    *,
    locale_tag: str | None,
    default_locale: str,
    timezone: ZoneInfo,
    templates_dir: Path | None = None,
) -> Rendered:
    """The event's subject, text and HTML for ``context``, in the order's language."""
    if templates_dir is not None and not templates_dir.is_dir():
        # Checked at config load too; gone since (a folder moved): said, never silently replaced
        # by the shipped templates.
        raise TemplateProblem(f"the templates folder {templates_dir} ([notify] templates_dir) "
                              "does not exist or is not a folder")  # fmt: skip
    env = environment(templates_dir)
    locale = locale_of(locale_tag, default_locale)
    language = _language(env, locale, default_locale, event)
    helpers = _helpers(locale, timezone)
    values = {**context, **helpers, "lang": language, "locale": str(locale),
              "rtl": locale.character_order == "right-to-left"}  # fmt: skip
    parts = []
    for part in PARTS:
        name = f"{language}/{event}.{part}"
        try:
            parts.append(_template(env, name).render(values))
        except TemplateNotFound:
            raise TemplateProblem(f"the template {name} is missing") from None
        except TemplateError as exc:  # while rendering: an unknown name, a failed filter
            raise TemplateProblem(_cannot_use(name, exc)) from None
        except UnicodeDecodeError:  # a template it imports or includes
            raise TemplateProblem(
                f"the template {name} cannot be used: a template it uses is not UTF-8 text"
            ) from None
    subject, text, html = parts
    return Rendered(" ".join(subject.split()), text, html, language)


def _helpers(locale: Locale, timezone: ZoneInfo) -> dict[str, Any]:
    def money(amount: Decimal | None, currency: str) -> str:
        if amount is None:
            return ""
        return format_currency(amount, currency, locale=locale)

    def date(at: datetime | None) -> str:
        return format_date(at.astimezone(timezone), format="long", locale=locale) if at else ""

    def datetime_(at: datetime | None) -> str:
        if at is None:
            return ""
        return format_datetime(at.astimezone(timezone), format="medium", locale=locale)

    return {"money": money, "date": date, "datetime": datetime_}
