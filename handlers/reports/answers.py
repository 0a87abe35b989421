"""Reading a representative's answers: typed numbers (digits, "46 triệu", words such as
"mười lăm"), yes/no, choices, several choices ("Xong" ends them), text and skips; and the
buttons pressed on a question. Every answer is saved in the draft at once."""

from __future__ import annotations

import copy
from typing import Any

from ground.messages import Button, Reply, rows
from handlers.context import Context
from handlers.reports.render import (
    DONE_OPTION,
    SUMMARY,
    example,
    form,
    question_reply,
    summary_reply,
)
from knowledge import numbers
from knowledge.forms import CHOICE, MONEY, MULTI, NUMERIC, YESNO, Field
from knowledge.normalize import fold
from knowledge.number_words import words_to_digits

SKIP_WORDS = frozenset({"bo qua", "boqua", "skip", "bo", "khong tra loi"})
YES_WORDS = frozenset({"co", "yes", "y", "da co", "co a", "u", "dung"})
NO_WORDS = frozenset({"khong", "ko", "k", "no", "n", "chua", "khong co", "chua co"})
DONE_WORDS = frozenset({"xong", "done", "xong roi", "het", "ok", "chon xong"})


# --- the draft -----------------------------------------------------------------------------


def draft(ctx: Context) -> dict[str, Any]:
    # A deep copy: the JSON column is saved only when the new value differs from the old one.
    return copy.deepcopy(ctx.member.flow_data or {})


def save(ctx: Context, data: dict[str, Any]) -> None:
    ctx.member.flow_data = data


def next_step(answers: dict[str, Any], after: str | None) -> str:
    """The first unanswered question after ``after`` (``None``: from the start), else the
    summary."""
    fields = form().applicable(answers)
    keys = [f.key for f in fields]
    start = keys.index(after) + 1 if after in keys else 0
    for f in fields[start:]:
        if f.key not in answers:
            return f.key
    for f in fields[:start]:  # e.g. a question added to the form meanwhile
        if f.key not in answers and f.required:
            return f.key
    return SUMMARY


async def step_reply(ctx: Context, data: dict[str, Any], note: str = "") -> Reply:
    f = form().field(data.get("step", ""))
    if f is None:
        data["step"] = SUMMARY
        save(ctx, data)
        return await summary_reply(ctx, data, note)
    return question_reply(ctx, data, f, note)


async def store(ctx: Context, data: dict[str, Any], f: Field, value: Any) -> Reply:
    """Save one answer and ask the next question (or show the summary)."""
    data.setdefault("answers", {})[f.key] = value
    data.pop("pending", None)
    data.pop("sel", None)
    data["step"] = next_step(data["answers"], f.key)
    save(ctx, data)
    return await step_reply(ctx, data)


# --- reading answers -----------------------------------------------------------------------


def _number_problem(ctx: Context, f: Field, text: str, problem: str | None) -> str:
    example_ = example(f)
    if problem == numbers.NOT_WHOLE:
        if f.type == MONEY:
            return ctx.t("Số tiền tính bằng đồng, không có số lẻ. Ví dụ: 1,5 triệu hoặc 1.500.000.")
        return ctx.t("Cần một số nguyên, ví dụ: {example}.", example=example_)
    if problem == numbers.NEGATIVE:
        return ctx.t("Số không được âm. Ví dụ: {example}.", example=example_)
    return ctx.t(
        "Tôi chưa đọc được số trong “{text}”. Anh/chị gõ một số, ví dụ: {example}.",
        text=text.strip()[:40],
        example=example_,
    )


def _show(ctx: Context, f: Field, value: int) -> str:
    return ctx.translator.money(value) if f.type == MONEY else ctx.translator.number(value)


def _check_bounds(ctx: Context, f: Field, value: int) -> str | None:
    lo, hi = f.min or 0, f.max
    if value < lo or (hi is not None and value > hi):
        return ctx.t(
            "{value} nằm ngoài khoảng hợp lệ (từ {min} đến {max}). Anh/chị kiểm tra lại.",
            value=_show(ctx, f, value),
            min=_show(ctx, f, lo),
            max=_show(ctx, f, hi) if hi is not None else "∞",
        )
    return None


async def answer_number(ctx: Context, data: dict[str, Any], f: Field, text: str) -> Reply:
    reading = numbers.parse_number(text)
    if reading.problem == numbers.NOT_A_NUMBER and (spelled := words_to_digits(text)):
        reading = numbers.parse_number(spelled)  # "mười lăm", "hai triệu"
    if not reading.candidates:
        return question_reply(ctx, data, f, _number_problem(ctx, f, text, reading.problem))
    if reading.value is not None:
        problem = _check_bounds(ctx, f, reading.value)
        if problem:
            return question_reply(ctx, data, f, problem)
        return await store(ctx, data, f, reading.value)
    data["pending"] = list(reading.candidates)
    save(ctx, data)
    buttons = [Button(_show(ctx, f, v), f"rp:num:{f.key}:{v}") for v in reading.candidates]
    buttons.append(Button(ctx.t("Nhập lại"), f"rp:num:{f.key}:retry"))
    return Reply(
        ctx.t(
            "Anh/chị gõ “{text}”: số này có thể hiểu theo nhiều cách. Anh/chị xác nhận giúp:",
            text=text.strip()[:40],
        ),
        rows(*buttons),
    )


def _match_option(f: Field, text: str) -> str | None:
    folded = fold(text).strip(" .")
    for o in f.options:
        if folded in (o.key, *(fold(label) for label in o.label.values())):
            return o.key
    return None


async def answer_text(ctx: Context, data: dict[str, Any], f: Field, text: str) -> Reply:
    """A typed answer to question ``f``."""
    folded = fold(text).strip(" .!")
    if not f.required and folded in SKIP_WORDS:
        return await store(ctx, data, f, None)
    if f.required and folded in SKIP_WORDS - {"bo"}:  # never stored as the answer "Bỏ qua"
        return question_reply(ctx, data, f, ctx.t("Câu này cần trả lời, không bỏ qua được."))
    if f.type in NUMERIC:
        return await answer_number(ctx, data, f, text)
    if f.type == YESNO:
        if folded in YES_WORDS or folded.startswith("co "):
            return await store(ctx, data, f, True)
        if folded in NO_WORDS or folded.startswith("khong "):
            return await store(ctx, data, f, False)
        return question_reply(ctx, data, f, ctx.t("Anh/chị bấm “Có” hoặc “Không”."))
    if f.type == CHOICE:
        key = _match_option(f, text)
        if key:
            return await store(ctx, data, f, key)
        return question_reply(ctx, data, f, ctx.t("Anh/chị chọn một trong các nút bên dưới."))
    if f.type == MULTI:
        if folded in DONE_WORDS:  # typed instead of pressing "Xong"
            return await finish_multi(ctx, data, f)
        parts = [p for p in fold(text).replace(";", ",").replace(" va ", ",").split(",")]
        keys = [_match_option(f, p) for p in parts if p.strip()]
        if keys and all(keys):
            return await store_multi(ctx, data, f, [k for k in keys if k])
        return question_reply(
            ctx, data, f, ctx.t("Anh/chị bấm các lựa chọn bên dưới, rồi bấm “Xong”.")
        )
    # text
    value = " ".join(text.split())
    if not value:
        return question_reply(ctx, data, f, ctx.t("Anh/chị gõ câu trả lời bằng chữ."))
    if len(value) > f.max_length:
        return question_reply(
            ctx,
            data,
            f,
            ctx.t("Câu trả lời dài quá {n} ký tự; anh/chị viết ngắn gọn lại giúp.", n=f.max_length),
        )
    return await store(ctx, data, f, value)


async def store_multi(ctx: Context, data: dict[str, Any], f: Field, keys: list[str]) -> Reply:
    exclusive = [k for k in keys if (o := f.option(k)) and o.exclusive]
    chosen = exclusive[-1:] if exclusive else keys
    ordered = [o.key for o in f.options if o.key in chosen]
    return await store(ctx, data, f, ordered)


async def finish_multi(ctx: Context, data: dict[str, Any], f: Field) -> Reply:
    """ "Xong" on a question with several choices: keep those ticked."""
    chosen = list(data.get("sel", data["answers"].get(f.key) or []))
    if not chosen and f.required:
        return question_reply(
            ctx, data, f, ctx.t("Anh/chị chọn ít nhất một lựa chọn, rồi bấm “Xong”.")
        )
    return await store_multi(ctx, data, f, chosen)


async def press(ctx: Context, data: dict[str, Any], kind: str, rest: str) -> Reply:
    """A button on the current question: skip, yes/no, a choice, a number read two ways, or
    one of several choices (ticked and unticked in place)."""
    key, _, value = rest.partition(":")
    f = form().field(key)
    if f is None or data.get("step") != key:  # an old message's button
        return await step_reply(ctx, data, ctx.t("Câu hỏi đó đã qua."))
    if kind == "skip" and not f.required:
        return await store(ctx, data, f, None)
    if kind == "y" and f.type == YESNO:
        return await store(ctx, data, f, value == "1")
    if kind == "c" and f.type == CHOICE and f.option(value):
        return await store(ctx, data, f, value)
    if kind == "num" and f.type in NUMERIC:
        if value.isascii() and value.isdigit() and int(value) in data.get("pending", []):
            problem_text = _check_bounds(ctx, f, int(value))
            if problem_text:
                data.pop("pending", None)
                save(ctx, data)
                return question_reply(ctx, data, f, problem_text)
            return await store(ctx, data, f, int(value))
        data.pop("pending", None)
        save(ctx, data)
        return question_reply(ctx, data, f, ctx.t("Anh/chị gõ lại số giúp."))
    if kind == "m" and f.type == MULTI:
        if value == DONE_OPTION:
            return await finish_multi(ctx, data, f)
        chosen = list(data.get("sel", data["answers"].get(f.key) or []))
        opt = f.option(value)
        if opt is not None:
            if value in chosen:
                chosen.remove(value)
            elif opt.exclusive:
                chosen = [value]
            else:
                chosen = [k for k in chosen if not (o := f.option(k)) or not o.exclusive]
                chosen.append(value)
            data["sel"] = [o.key for o in f.options if o.key in chosen]
            save(ctx, data)
            reply = question_reply(ctx, data, f)
            return Reply(reply.text, reply.buttons, edit=True)
    return await step_reply(ctx, data)
