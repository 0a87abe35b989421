"""Vietnamese numbers as members type them (knowledge/numbers.py)."""

import pytest

from knowledge.numbers import EMPTY, NEGATIVE, NOT_A_NUMBER, NOT_WHOLE, parse_number


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
        ("mười hai", NOT_A_NUMBER),
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
