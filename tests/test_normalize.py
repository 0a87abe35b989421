from knowledge.normalize import fold, has_diacritics, syllables, tokenize


def test_fold_follows_the_eval_readme() -> None:
    assert fold("Ít nhất 05 thành viên") == "it nhat 05 thanh vien"
    assert fold("ĐĂNG KÝ   Hợp tác xã") == "dang ky hop tac xa"


def test_old_and_new_tone_placement_read_the_same() -> None:
    assert syllables("hoà") == syllables("hòa")
    assert syllables("thuỷ") == syllables("thủy")
    assert syllables("Hoà")[0] == ("hoa2", "hoa")


def test_decomposed_input_is_normalised() -> None:
    decomposed = "ho\u0300a"  # o + combining grave
    assert syllables(decomposed) == syllables("hòa")


def test_i_and_y_spellings_match() -> None:
    assert syllables("đăng kí") == syllables("đăng ký")
    assert syllables("lí do")[0] == syllables("lý do")[0]
    assert syllables("quy")[0][1] == "quy"


def test_abbreviations_and_teen_code_expand() -> None:
    folded = [t.folded for t in tokenize("dk htx o dau, ko bt j")]
    assert folded[:5] == ["dang", "ki", "hop", "tac", "xa"]
    assert "khong" in folded and "gi" in folded
    assert [t.folded for t in tokenize("đk tv lmhtx")] == [
        "dang", "ki", "thanh", "vien", "lien", "minh", "hop", "tac", "xa",
    ]  # fmt: skip
    assert next(t.folded for t in tokenize("fai lam sao")) == "phai"


def test_accents_are_remembered_per_token() -> None:
    toks = tokenize("hợp tac")
    assert toks[0].typed_toned and not toks[1].typed_toned
    assert has_diacritics("hợp") and not has_diacritics("hop")


def test_punctuation_is_dropped_numbers_kept() -> None:
    assert [t.folded for t in tokenize("NQ 12/2018/NQ-HĐND?")] == [
        "nghi", "quyet", "12", "2018", "nghi", "quyet", "hoi", "dong", "nhan", "dan",
    ]  # fmt: skip


def test_numbers_glued_to_words_are_split() -> None:
    assert [t.folded for t in tokenize("nq12")] == ["nghi", "quyet", "12"]
    assert [t.folded for t in tokenize("e 16t")] == ["em", "16", "tuoi"]
    assert [t.folded for t in tokenize("46tr")] == ["46", "trieu"]
    assert [t.folded for t in tokenize("hs dk slv")][:2] == ["ho", "so"]
