"""Every message in the code has a translation in both catalogs."""

from datetime import UTC, date, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

from babel.messages.extract import extract_from_dir
from babel.messages.pofile import read_po

from ground.i18n import (
    EXTRACT_KEYWORDS,
    EXTRACT_METHODS,
    SUPPORTED_CODE_DIRS,
    Translations,
    catalog_path,
)

ROOT = Path(__file__).resolve().parent.parent


def _code_messages() -> set[str]:
    found = set()
    for folder in SUPPORTED_CODE_DIRS:
        for _, _, message, _, _ in extract_from_dir(
            ROOT / folder, method_map=EXTRACT_METHODS, keywords=EXTRACT_KEYWORDS
        ):
            found.add(message if isinstance(message, str) else message[0])
    return found


def test_every_message_is_translated_in_vi_and_en() -> None:
    messages = _code_messages()
    assert len(messages) > 30
    for locale in ("vi", "en"):
        with catalog_path(locale).open("rb") as fh:
            catalog = read_po(fh, locale=locale)
        missing = []
        for msgid in messages:
            msg = catalog.get(msgid) or next(
                (m for m in catalog if isinstance(m.id, tuple) and m.id[0] == msgid), None
            )
            strings = (
                (msg.string,)
                if msg and isinstance(msg.string, str)
                else (msg.string if msg else ())
            )
            if not msg or not all(strings):
                missing.append(msgid)
        assert not missing, f"{locale} catalog lacks: {missing[:5]} (run `make i18n`)"


def test_placeholders_survive_translation() -> None:
    import re

    with catalog_path("en").open("rb") as fh:
        catalog = read_po(fh, locale="en")
    for msg in catalog:
        if not msg.id or isinstance(msg.id, tuple) or not msg.string:
            continue  # untranslated messages are the other test's business
        assert set(re.findall(r"\{\w+\}", msg.id)) == set(re.findall(r"\{\w+\}", msg.string)), (
            msg.id
        )


def test_translator_formats_for_the_locale() -> None:
    tr = Translations(("vi", "en"), "vi", ZoneInfo("Asia/Ho_Chi_Minh"))
    vi, en = tr.get("vi"), tr.get("en")
    assert vi.t("Liên hệ cán bộ") == "Liên hệ cán bộ"
    assert en.t("Liên hệ cán bộ") == "Contact staff"
    assert vi.money(46_000_000).replace("\xa0", " ") == "46.000.000 ₫"
    assert en.number(1250) == "1,250"
    assert vi.number(1250) == "1.250"
    # 20:30 UTC on 30 Nov is already 1 December in Vietnam.
    assert vi.day(datetime(2026, 11, 30, 20, 30, tzinfo=UTC)) == "01/12/2026"
    assert en.day(date(2026, 12, 1)) == "1 Dec 2026"
    assert tr.get("fr").locale == "vi"
    assert tr.guess_locale("en-US") == "en"
