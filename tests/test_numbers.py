"""Vietnamese numbers as members type them (knowledge/numbers.py)."""

import pytest

from knowledge.numbers import (
    EMPTY,
    NEGATIVE,
    NOT_A_NUMBER,
    NOT_WHOLE,
    TOO_LARGE,
    parse_number,
)


@pytest.mark.parametrize(
    ("text", "value"),
    [
        ("46 triệu", 46_000_000),
        ("46tr", 46_000_000),
        ("46 TR", 46_000_000),
        ("46 trieu", 46_000_000),
        ("1,2 tỷ", 1_200_000_000),
        ("1,2 tỉ", 1_200_000_000),
        ("1 tỷ 200 triệu", 1_200_000_000),
        ("1 tỷ 200 triệu 500 nghìn", 1_200_500_000),
        ("500k", 500_000),
        ("500 k", 500_000),
        ("1.200.000", 1_200_000),
        ("1,200,000", 1_200_000),
        ("1 200 000", 1_200_000),
        ("1200000 đồng", 1_200_000),
        ("1200000đ", 1_200_000),
        ("1.200.000 ₫", 1_200_000),
        ("1200000 VNĐ", 1_200_000),
        ("12 người", 12),
        ("12", 12),
        ("0", 0),
        ("không", 0),
        ("1,5 triệu", 1_500_000),
        ("1.5 triệu", 1_500_000),
        ("2 nghìn", 2_000),
        ("3 ngàn", 3_000),
        ("2 triệu rưỡi", 2_500_000),
        ("1 triệu 2", 1_200_000),
        ("1 tỷ 2", 1_200_000_000),
        ("khoảng 46 triệu", 46_000_000),
        ("1.200.000,5 triệu", 1_200_000_500_000),
        ("3 hội chợ", 3),
        # Slang members use for money (#16): never read as 5 đồng.
        ("5 củ", 5_000_000),
        ("5 cu", 5_000_000),
        ("5kk", 5_000_000),
        ("5 lít", 500_000),
        ("5 tỏi", 5_000_000_000),
        ("1 củ 2", 1_200_000),
        ("2 củ rưỡi", 2_500_000),
        ("5 chục", 50),
        ("5 chục triệu", 50_000_000),
        ("3 trăm k", 300_000),
        (",5 triệu", 500_000),
        # Numbers in words (#18).
        ("một", 1),
        ("hai", 2),
        ("mười hai", 12),
        ("mười lăm", 15),
        ("muoi lam", 15),
        ("hai mươi", 20),
        ("hai mươi mốt", 21),
        ("ba trăm hai mươi tư", 324),
        ("một trăm", 100),
        ("một trăm linh năm", 105),
        ("tám triệu", 8_000_000),
        ("tạm tám triệu", 8_000_000),
        ("mười hai triệu", 12_000_000),
        ("hai triệu rưỡi", 2_500_000),
        ("một tỷ hai", 1_200_000_000),
        ("hai trăm k", 200_000),
        ("khoảng hai chục", 20),
    ],
)
def test_readings(text: str, value: int) -> None:
    reading = parse_number(text)
    assert reading.value == value, reading
    assert not reading.ambiguous and reading.problem is None


@pytest.mark.parametrize(
    ("text", "candidates"),
    [
        ("1.200", (1200,)),  # 1200, or 1.2 (not a whole number): confirmed with the member
        ("1,200", (1200,)),
        ("1,200 tỷ", (1_200_000_000, 1_200_000_000_000)),
        ("1.500 triệu", (1_500_000, 1_500_000_000)),
    ],
)
def test_ambiguous_readings_are_all_offered(text: str, candidates: tuple[int, ...]) -> None:
    reading = parse_number(text)
    assert reading.ambiguous and reading.value is None
    assert reading.candidates == candidates


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        ("", EMPTY),
        ("   ", EMPTY),
        ("nhiều lắm", NOT_A_NUMBER),
        ("hai ba", NOT_A_NUMBER),
        ("²", NOT_A_NUMBER),
        ("③", NOT_A_NUMBER),
        ("5²", NOT_A_NUMBER),
        ("5 năm", NOT_A_NUMBER),  # 5 5? asked again, not read as 5
        ("1" * 26, TOO_LARGE),
        ("1" * 20 + " tỷ", TOO_LARGE),
        ("999 tỷ tỷ", NOT_A_NUMBER),
        (".12", NOT_WHOLE),  # 0.12, never 12
        ("0.500", NOT_WHOLE),
        ("mười rưỡi", NOT_WHOLE),
        ("12 15", NOT_A_NUMBER),
        ("1 triệu 2 tỷ", NOT_A_NUMBER),
        ("1 tỷ 1500 triệu", NOT_A_NUMBER),
        ("1.2.3", NOT_A_NUMBER),
        ("12a3", NOT_A_NUMBER),
        ("12 triệu hay 15 triệu", NOT_A_NUMBER),
        ("-5", NEGATIVE),
        ("1.5", NOT_WHOLE),
        ("0,5", NOT_WHOLE),
    ],
)
def test_bad_inputs_say_why(text: str, problem: str) -> None:
    reading = parse_number(text)
    assert reading.candidates == () and reading.problem == problem


def test_no_text_breaks_the_reader() -> None:
    """Random text from digits, separators, unit words, number words and odd characters
    (fixed seed): always a reading or a problem code, never an exception."""
    import random

    rng = random.Random(16)
    pieces = [*"0123456789.,- ²③٣５", "tỷ", "triệu", "củ", "k", "kk", "lít", "tỏi", "chục",
              "trăm", "mười", "mươi", "lăm", "hai", "linh", "rưỡi", "tạm", "đồng", "\u00a0"]  # fmt: skip
    for _ in range(3000):
        text = "".join(rng.choice(pieces) + rng.choice(["", " "]) for _ in range(rng.randint(0, 8)))
        reading = parse_number(text)
        assert reading.candidates or reading.problem, text
        assert all(0 <= v < 10**15 for v in reading.candidates), text
