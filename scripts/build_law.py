"""Build knowledge/law/articles.json.gz from the consolidated text (Pháp điển) of the HTX topic.

    .venv/bin/python scripts/build_law.py [SOURCE] [OUTPUT]

SOURCE defaults to ../shared/domain/sources/phap-dien-hop-tac-xa.md (topic 12.4 of the Pháp
điển: the 2023 cooperative law with its decrees, circulars and decisions). The source names
every article twice, in the text and in the closing list ("Danh sách điều khoản"): its 714
lines that start with a heading are 372 articles (30 headings in the text are glued to the end
of the paragraph before them). The script reads both and checks that they agree.

Each article keeps its document, its original number ("Điều 90 Luật số 17/2023/QH15"), its
Pháp điển number (12.4.LQ.90), title, chapter and section, date in force, and its text as an
introduction plus clauses (khoản) with their points (điểm). The output is deterministic (sorted
keys, gzip without a timestamp), so running the script twice gives the same bytes.
"""

from __future__ import annotations

import gzip
import json
import re
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
_REL = Path("shared", "domain", "sources", "phap-dien-hop-tac-xa.md")
# ../shared next to the project, or two levels up when the project is a worktree.
SOURCE = next((p / _REL for p in ROOT.parents if (p / _REL).exists()), ROOT.parent / _REL)
OUTPUT = ROOT / "knowledge" / "law" / "articles.json.gz"
SOURCE_NAME = (
    "Bộ pháp điển, đề mục 12.4 Hợp tác xã (phap-dien-hop-tac-xa.md, "
    "https://phapdien.moj.gov.vn), bản sửa ngày {lastedit}"
)

HEADING = re.compile(r"Điều 12\.4\.(LQ|NĐ|TT|QĐ)\.(\d+(?:\.\d+)?)\.[ \t]*([^\n]*)")
ORIGIN = re.compile(
    r"^\(Điều (\d+)\s+(Luật|Nghị định|Thông tư|Quyết định) số ([0-9A-Za-zĐđ/\-]+)"
    r"([^\n]*?),\s*có hiệu lực thi hành kể từ ngày (\d\d)/(\d\d)/(\d{4})\s*(.*?)\s*\)\s*$"
)
RELATED = re.compile(r"^\(Điều này có nội dung liên quan đến.*$", re.M)
CHAPTER = re.compile(r"(?:^|(?<=[.;:]))[ \t]*Chương ([IVXL]+)[ \t]*\n\s*\n[ \t]*([^\n]+)", re.M)
SECTION = re.compile(r"^\*\*Mục (\d+)\. ([^*\n]+)\*\*[ \t]*$", re.M)
CLAUSE = re.compile(r"^(\d+)\.\s*\S")
POINT = re.compile(r"^([a-zđ])\)\s")
POINT_LETTERS = "abcdđeghiklmnopqrstuvxy"
KINDS = {"Luật": "luat", "Nghị định": "nghidinh", "Thông tư": "thongtu", "Quyết định": "quyetdinh"}


def split_source(text: str) -> tuple[str, str, str]:
    """(lastedit date, body, closing list)."""
    m = re.search(r"^lastedit:\s*(\S+)", text, re.M)
    lastedit = m.group(1) if m else ""
    body_start = text.index("## VĂN BẢN")
    list_start = text.index("## Danh sách điều khoản")
    return lastedit, text[body_start:list_start], text[list_start:]


def structure(paras: list[str]) -> tuple[list[str], list[dict]]:
    """Paragraphs → (introduction, clauses); a clause is {"n", "paras", "points"}.

    ``points`` lists [letter, index of its first paragraph in ``paras``].

    A clause starts at "N." when N is the next number; a point at "x)" when x is the next
    letter of the Vietnamese sequence (a, b, c, d, đ, e, g, …). Anything else belongs to the
    clause (or point) before it, so numbered lists inside a point do not break the numbering.
    """
    intro: list[str] = []
    clauses: list[dict] = []
    for para in paras:
        m = CLAUSE.match(para)
        if m and int(m.group(1)) == len(clauses) + 1:
            clauses.append({"n": m.group(1), "paras": [para], "points": []})
            continue
        p = POINT.match(para)
        target = clauses[-1] if clauses else None
        if p and target is not None:
            points = target["points"]
            expected = POINT_LETTERS[len(points)] if len(points) < len(POINT_LETTERS) else ""
            if p.group(1) == expected:
                points.append([expected, len(target["paras"])])
        if target is None:
            intro.append(para)
        else:
            target["paras"].append(para)
    return intro, clauses


def clean(line: str) -> str:
    line = line.strip().replace("\u00a0", " ")
    if line.startswith("**") and line.endswith("**") and len(line) > 4:
        line = line[2:-2].strip()
    return re.sub(r"[ \t]+", " ", line)


def parse(text: str) -> dict:
    lastedit, body, closing = split_source(text)
    body = RELATED.sub("", body)
    heads = list(HEADING.finditer(body))
    chapters = [(m.start(), m.group(1), clean(m.group(2))) for m in CHAPTER.finditer(body)]
    sections = [(m.start(), m.group(1), clean(m.group(2))) for m in SECTION.finditer(body)]
    documents: dict[str, dict] = {}
    chapter_list: list[dict] = []
    articles: list[dict] = []
    for i, m in enumerate(heads):
        end = heads[i + 1].start() if i + 1 < len(heads) else len(body)
        chunk = body[m.end() : end]
        # A chapter or section heading may sit at the end of the article before the next one.
        cut = min([c[0] for c in chapters + sections if m.end() <= c[0] < end] or [end])
        chunk = body[m.end() : cut]
        lines = [clean(line) for line in chunk.split("\n")]
        lines = [line for line in lines if line]
        origin = ORIGIN.match(lines[0]) if lines else None
        if origin is None:
            raise SystemExit(f"no origin line after {m.group(0)!r}: {lines[:1]!r}")
        number, kind, doc, rest, dd, mm, yyyy, amended = origin.groups()
        doc = doc.upper().replace("QĐ-TTG", "QĐ-TTg")
        entry = documents.setdefault(doc, {"kind": KINDS[kind], "title": ""})
        if rest.strip() and not entry["title"]:
            entry["title"] = f"{kind} số {doc}{rest.rstrip()}"
        ch = [c for c in chapters if c[0] < m.start()]
        sec = [s for s in sections if s[0] < m.start() and (not ch or s[0] > ch[-1][0])]
        chapter_name = ch[-1][2] if ch else ""
        section_name = f"Mục {sec[-1][1]}. {sec[-1][2]}" if sec else ""
        if ch and " MỤC " in chapter_name.upper():
            head, _, first = chapter_name.partition(" MỤC ")
            chapter_name = head.strip()
            if not sec:
                section_name = "Mục " + first.strip()
        if ch and (not chapter_list or chapter_list[-1]["n"] != ch[-1][1]):
            chapter_list.append({"n": ch[-1][1], "title": chapter_name})
        intro, clauses = structure(lines[1:])
        articles.append(
            {
                "pd": f"12.4.{m.group(1)}.{m.group(2)}",
                "doc": doc,
                "num": int(number),
                "title": clean(m.group(3)),
                "chapter": ch[-1][1] if ch else "",
                "section": section_name,
                "in_force": f"{yyyy}-{mm}-{dd}",
                "amended": amended.strip(" ,;"),
                "intro": intro,
                "clauses": clauses,
            }
        )
    listed = re.findall(r"^Điều 12\.4\.(?:LQ|NĐ|TT|QĐ)\.[\d.]+?(?=\.\s)", closing, re.M)
    listed = [x.removeprefix("Điều ") for x in listed]
    found = [a["pd"] for a in articles]
    if sorted(listed) != sorted(found) or len(set(found)) != len(found):
        missing = sorted(set(listed) ^ set(found))
        raise SystemExit(f"text and closing list disagree: {missing[:10]}")
    keys = [(a["doc"], a["num"]) for a in articles]
    if len(set(keys)) != len(keys):
        raise SystemExit("two articles with the same document and number")
    return {
        "source": SOURCE_NAME.format(lastedit=lastedit),
        "note": (
            "Văn bản quy phạm pháp luật không thuộc đối tượng bảo hộ quyền tác giả "
            "(Điều 15 Luật Sở hữu trí tuệ). Tạo bằng scripts/build_law.py."
        ),
        "documents": documents,
        "chapters": chapter_list,
        "articles": articles,
    }


def write(data: dict, out: Path) -> None:
    raw = json.dumps(data, ensure_ascii=False, sort_keys=True, separators=(",", ":"))
    out.parent.mkdir(parents=True, exist_ok=True)
    with out.open("wb") as fh, gzip.GzipFile(filename="", mode="wb", fileobj=fh, mtime=0) as gz:
        gz.write(raw.encode("utf-8"))


def main(argv: list[str]) -> int:
    source = Path(argv[1]) if len(argv) > 1 else SOURCE
    out = Path(argv[2]) if len(argv) > 2 else OUTPUT
    data = parse(source.read_text(encoding="utf-8"))
    write(data, out)
    n_law = sum(1 for a in data["articles"] if a["doc"] == "17/2023/QH15")
    print(
        f"{len(data['articles'])} articles ({n_law} of the law, "
        f"{len(data['documents'])} documents) → {out}"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv))
