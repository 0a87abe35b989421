"""Extract messages from the code into both catalogs (``make i18n``).

Vietnamese is the source language: new ``vi`` entries get the message id as their text, to
be reviewed; new ``en`` entries stay empty until translated, and the test suite fails on them.
"""

from __future__ import annotations

import sys
from pathlib import Path

from babel.messages.catalog import Catalog
from babel.messages.extract import extract_from_dir
from babel.messages.pofile import read_po, write_po

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from ground.i18n import EXTRACT_KEYWORDS, EXTRACT_METHODS, SUPPORTED_CODE_DIRS, catalog_path  # noqa: E402


def extract() -> Catalog:
    template = Catalog(project="coopbot", charset="utf-8")
    for folder in SUPPORTED_CODE_DIRS:
        for filename, lineno, message, _comments, context in extract_from_dir(
            ROOT / folder, method_map=EXTRACT_METHODS, keywords=EXTRACT_KEYWORDS
        ):
            template.add(message, None, [(f"{folder}/{filename}", lineno)], context=context)
    return template


def main() -> int:
    missing = 0
    for locale in ("vi", "en"):
        template = extract()  # fresh: Catalog.update shares message objects with the template
        path = catalog_path(locale)
        path.parent.mkdir(parents=True, exist_ok=True)
        if path.exists():
            with path.open("rb") as fh:
                catalog = read_po(fh, locale=locale)
        else:
            catalog = Catalog(locale=locale, project="coopbot", charset="utf-8")
        catalog.update(template, no_fuzzy_matching=True)
        for msg in catalog:
            if not msg.id:
                continue
            if locale == "vi" and isinstance(msg.id, tuple):
                if not all(msg.string or ()):
                    msg.string = (msg.id[0],) * catalog.num_plurals
            elif locale == "vi" and not msg.string:
                msg.string = msg.id
            if not msg.string or (isinstance(msg.string, tuple) and not all(msg.string)):
                missing += 1
                print(f"{locale}: untranslated: {msg.id!r}")
        catalog.obsolete.clear()
        with path.open("wb") as fh:
            write_po(fh, catalog, width=100, omit_header=False, sort_output=True)
    print(f"catalogs updated; {missing} untranslated")
    return 1 if missing else 0


if __name__ == "__main__":
    raise SystemExit(main())
