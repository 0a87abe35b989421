"""The cooperative name index behind /dangky: same answers as scoring every name, no full scan."""

import random

from rapidfuzz import fuzz, process

from knowledge.names import NameIndex, name_key

NAMES = {
    1: "HTX Chè Bát Xát",
    2: "Hợp tác xã Nông nghiệp Mường Khương",
    3: "HTX Dịch vụ Du lịch Sa Pa",
    4: "Tổ hợp tác Mật ong Bắc Hà",
    5: "HTX Quế Văn Yên (demo)",
    6: "Hợp tác xã Chè Shan Tuyết Suối Giàng",
}


def test_finds_a_name_typed_without_accents_or_kind_words() -> None:
    index = NameIndex(NAMES.items())
    assert index.search("bat xat")[0][0] == 1
    assert index.search("htx mat ong bac ha")[0][0] == 4
    assert index.search("Quế Văn Yên")[0][0] == 5


def test_corrects_a_syllable_it_has_never_seen() -> None:
    index = NameIndex(NAMES.items())
    assert index.search("muong khuong")[0][0] == 2
    assert index.search("muongg khuongg")[0][0] == 2


def test_put_renames_and_remove_forgets() -> None:
    index = NameIndex(NAMES.items())
    index.put(1, "HTX Gạo Séng Cù")
    assert all(key != 1 for key, _ in index.search("bat xat"))
    assert index.search("seng cu")[0][0] == 1
    index.remove(1)
    assert index.search("seng cu") == []
    assert len(index) == len(NAMES) - 1


def test_nothing_close_finds_nothing() -> None:
    assert NameIndex(NAMES.items()).search("xyz qwv") == []
    assert NameIndex().search("bat xat") == []


def test_agrees_with_scoring_every_name_on_a_generated_province() -> None:
    rng = random.Random(7)
    products = ["chè", "quế", "gạo", "mật ong", "dược liệu", "rau", "cá", "lợn", "thảo quả", "mận"]
    places = ["Bát Xát", "Sa Pa", "Bắc Hà", "Mường Khương", "Văn Yên", "Si Ma Cai", "Bảo Yên"]
    extra = ["Thành Công", "Phú Thịnh", "Hồng Phát", "An Bình", "Tân Tiến", "Đoàn Kết"]
    names = {
        i: f"HTX {rng.choice(products).title()} {rng.choice(extra)} {rng.choice(places)} {i}"
        for i in range(3000)
    }
    index = NameIndex(names.items())
    keys = {k: name_key(v) for k, v in names.items()}
    agree = 0
    for key in rng.sample(sorted(names), 100):
        query = names[key].lower()
        ours = index.search(query, limit=1)
        full = process.extract(name_key(query), keys, scorer=fuzz.WRatio, limit=1)
        agree += bool(ours) and ours[0][1] == full[0][1]
        assert ours and ours[0][0] == key
    assert agree == 100
