"""Forms as data: the monthly report's questions live in ``knowledge/forms/*.yaml``.

:func:`load_form` reads and validates one file and raises :class:`FormError` listing every
problem; :func:`check_forms` returns the problems of every form (``coopbot kb check``).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

import yaml

from knowledge.base import Problem

FORMS_DIR = Path(__file__).parent / "forms"
MONTHLY_REPORT = FORMS_DIR / "monthly_report.yaml"
LOCALES = ("vi", "en")
INTEGER, MONEY, CHOICE, MULTI, YESNO, TEXT = "integer", "money", "choice", "multi", "yesno", "text"
FIELD_TYPES = (INTEGER, MONEY, CHOICE, MULTI, YESNO, TEXT)
NUMERIC = (INTEGER, MONEY)
_KEY = re.compile(r"[a-z][a-z0-9_]{0,23}")
_OPTION_KEY = re.compile(r"[a-z0-9][a-z0-9_]{0,15}")
DEFAULT_MAX_LENGTH = 1000


class FormError(Exception):
    def __init__(self, problems: list[Problem]) -> None:
        super().__init__("\n".join(str(p) for p in problems))
        self.problems = problems


@dataclass(frozen=True)
class Option:
    key: str
    label: dict[str, str]
    exclusive: bool = False

    def text(self, locale: str) -> str:
        return self.label.get(locale) or self.label["vi"]


@dataclass(frozen=True)
class Field:
    key: str
    type: str
    label: dict[str, str]
    question: dict[str, str]
    help: dict[str, str]
    unit: dict[str, str]
    required: bool
    min: int | None = None
    max: int | None = None
    max_length: int = DEFAULT_MAX_LENGTH
    options: tuple[Option, ...] = ()
    when: tuple[str, Any] | None = None  # (field key, answer) that this field needs

    def text(self, what: str, locale: str) -> str:
        """``label``, ``question``, ``help`` or ``unit`` in ``locale`` (Vietnamese fallback)."""
        texts: dict[str, str] = getattr(self, what)
        return texts.get(locale) or texts.get("vi", "")

    def option(self, key: str) -> Option | None:
        return next((o for o in self.options if o.key == key), None)


@dataclass(frozen=True)
class Form:
    id: str
    title: dict[str, str]
    fields: tuple[Field, ...]

    def field(self, key: str) -> Field | None:
        return next((f for f in self.fields if f.key == key), None)

    def applies(self, field: Field, answers: dict[str, Any]) -> bool:
        """Whether ``field`` is asked, given the answers so far."""
        if field.when is None:
            return True
        key, value = field.when
        return answers.get(key) == value

    def applicable(self, answers: dict[str, Any]) -> list[Field]:
        return [f for f in self.fields if self.applies(f, answers)]

    def planned(self, answers: dict[str, Any]) -> list[Field]:
        """The questions that are or may still be asked (a conditional one counts until the
        answer it depends on rules it out): the "of N" shown to members."""
        return [
            f
            for f in self.fields
            if f.when is None or f.when[0] not in answers or self.applies(f, answers)
        ]


def _texts(
    raw: Any,
    where: str,
    problems: list[Problem],
    file: str,
    entry: str | None,
    required: bool = True,
) -> dict[str, str]:
    if raw is None and not required:
        return {}
    if not isinstance(raw, dict) or any(
        not isinstance(raw.get(loc), str) or not raw[loc].strip() for loc in LOCALES
    ):
        problems.append(Problem(file, entry, f"{where} needs non-empty 'vi' and 'en' texts"))
        return {loc: str(raw.get(loc, "")) for loc in LOCALES} if isinstance(raw, dict) else {}
    return {loc: raw[loc].strip() for loc in LOCALES}


def _int(raw: Any, name: str, problems: list[Problem], file: str, key: str) -> int | None:
    if raw is None:
        return None
    if isinstance(raw, bool) or not isinstance(raw, int):
        problems.append(Problem(file, key, f"{name} must be a whole number"))
        return None
    return raw


def _field(
    raw: Any, index: int, seen: dict[str, Field], file: str, problems: list[Problem]
) -> Field | None:
    if not isinstance(raw, dict):
        problems.append(Problem(file, None, f"field #{index + 1} is not a mapping"))
        return None
    key = raw.get("key")
    if not isinstance(key, str) or not _KEY.fullmatch(key):
        problems.append(
            Problem(file, None, f"field #{index + 1}: key must be snake_case ASCII, ≤ 24 chars")
        )
        return None
    if key in seen:
        problems.append(Problem(file, key, "key used twice"))
        return None
    unknown = set(raw) - {
        "key",
        "type",
        "label",
        "question",
        "help",
        "unit",
        "required",
        "min",
        "max",
        "max_length",
        "options",
        "when",
    }
    if unknown:
        problems.append(Problem(file, key, f"unknown attributes: {', '.join(sorted(unknown))}"))
    ftype = raw.get("type")
    if ftype not in FIELD_TYPES:
        problems.append(Problem(file, key, f"type must be one of {', '.join(FIELD_TYPES)}"))
        return None
    required = raw.get("required", True)
    if not isinstance(required, bool):
        problems.append(Problem(file, key, "required must be true or false"))
        required = True
    lo, hi = (
        _int(raw.get("min"), "min", problems, file, key),
        _int(raw.get("max"), "max", problems, file, key),
    )
    if ftype in NUMERIC:
        lo = 0 if lo is None else lo
        if lo < 0:
            problems.append(Problem(file, key, "min must not be negative"))
        if hi is not None and hi < lo:
            problems.append(Problem(file, key, "max is smaller than min"))
    elif lo is not None or hi is not None:
        problems.append(Problem(file, key, "min/max only apply to integer and money fields"))
    max_length = _int(raw.get("max_length"), "max_length", problems, file, key)
    if max_length is not None and (ftype != TEXT or max_length < 1):
        problems.append(Problem(file, key, "max_length must be ≥ 1, on text fields only"))
    options: list[Option] = []
    raw_options = raw.get("options")
    if ftype in (CHOICE, MULTI):
        if not isinstance(raw_options, list) or len(raw_options) < 2:
            problems.append(Problem(file, key, "a choice needs at least two options"))
            raw_options = []
        for opt in raw_options:
            okey = opt.get("key") if isinstance(opt, dict) else None
            if not isinstance(okey, str) or not _OPTION_KEY.fullmatch(okey):
                problems.append(Problem(file, key, "option keys must be snake_case, ≤ 16 chars"))
                continue
            if any(o.key == okey for o in options):
                problems.append(Problem(file, key, f"option {okey} used twice"))
                continue
            label = _texts(opt.get("label"), f"option {okey} label", problems, file, key)
            options.append(Option(okey, label, bool(opt.get("exclusive", False))))
    elif raw_options is not None:
        problems.append(Problem(file, key, "options only apply to choice and multi fields"))
    when = None
    raw_when = raw.get("when")
    if raw_when is not None:
        if not isinstance(raw_when, dict) or len(raw_when) != 1:
            problems.append(Problem(file, key, "when must be {field: value}"))
        else:
            ((other, value),) = raw_when.items()
            target = seen.get(other)
            if target is None:
                problems.append(Problem(file, key, f"when: {other} is not an earlier field"))
            elif target.type == YESNO and isinstance(value, bool):
                when = (other, value)
            elif target.type == CHOICE and target.option(str(value)):
                when = (other, str(value))
            else:
                problems.append(Problem(file, key, f"when: {value!r} is not an answer of {other}"))
    return Field(
        key=key,
        type=ftype,
        label=_texts(raw.get("label"), "label", problems, file, key),
        question=_texts(raw.get("question"), "question", problems, file, key),
        help=_texts(raw.get("help"), "help", problems, file, key, required=False),
        unit=_texts(raw.get("unit"), "unit", problems, file, key, required=False),
        required=required,
        min=lo,
        max=hi,
        max_length=max_length or DEFAULT_MAX_LENGTH,
        options=tuple(options),
        when=when,
    )


def read_form(path: Path) -> tuple[Form | None, list[Problem]]:
    """Read and validate ``path``: (form, []) or (form or None, problems)."""
    file = path.name
    problems: list[Problem] = []
    try:
        doc = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError, UnicodeDecodeError) as exc:
        return None, [Problem(file, None, f"cannot read: {exc}")]
    if not isinstance(doc, dict):
        return None, [Problem(file, None, "expected a mapping with id, title and fields")]
    form_id = doc.get("id")
    if not isinstance(form_id, str) or not form_id:
        problems.append(Problem(file, None, "missing id"))
    title = _texts(doc.get("title"), "title", problems, file, None)
    raw_fields = doc.get("fields")
    if not isinstance(raw_fields, list) or not raw_fields:
        problems.append(Problem(file, None, "fields must be a non-empty list"))
        raw_fields = []
    seen: dict[str, Field] = {}
    for index, raw in enumerate(raw_fields):
        field = _field(raw, index, seen, file, problems)
        if field is not None:
            seen[field.key] = field
    form = Form(str(form_id or path.stem), title, tuple(seen.values()))
    return form, problems


def load_form(path: Path = MONTHLY_REPORT) -> Form:
    form, problems = read_form(path)
    if problems or form is None:
        raise FormError(problems)
    return form


@lru_cache(maxsize=1)
def monthly_report() -> Form:
    """The monthly report form (read once)."""
    return load_form(MONTHLY_REPORT)


def check_forms(folder: Path = FORMS_DIR) -> tuple[list[Problem], int]:
    """Problems of every form under ``folder``, and how many forms there are."""
    problems: list[Problem] = []
    files = sorted(folder.glob("*.yaml"))
    for path in files:
        problems.extend(read_form(path)[1])
    return problems, len(files)
