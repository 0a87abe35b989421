"""Chart images: the 12-month chart of the monthly reports, drawn as a PNG for a phone."""

from __future__ import annotations

from pathlib import Path

from ground.i18n import N_, Translator

# Money axis units, largest first: (divisor, unit).
MONEY_UNITS = (
    (1_000_000_000, N_("tỷ đồng")),
    (1_000_000, N_("triệu đồng")),
    (1_000, N_("nghìn đồng")),
    (1, N_("đồng")),
)


def money_scale(values: list[int]) -> tuple[int, str]:
    """The unit that shows ``values`` best: the largest one the biggest value reaches
    (46 million → "triệu đồng", never "0.0 tỷ đồng")."""
    top = max((abs(v) for v in values), default=0)
    for divisor, unit in MONEY_UNITS:
        if top >= divisor:
            return divisor, unit
    return 1, MONEY_UNITS[-1][1]


def value_label(value: float, scaled: bool) -> str:
    """A bar's label: whole numbers as such, a scaled amount with one decimal under 100."""
    if not scaled or value >= 100 or value == int(value):
        return f"{value:,.0f}"
    return f"{value:,.1f}"


def draw_chart(series: dict[str, dict[str, int]], t: Translator, path: Path | str) -> None:
    """A PNG of the key indicators, one panel each, large enough to read on a phone."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    periods = list(series)
    labels = [p[5:7] + "/" + p[2:4] for p in periods]
    divisor, unit = money_scale([series[p]["revenue"] for p in periods])
    panels = [
        ("reports", t.t("Số HTX đã gửi báo cáo"), 1, "#2e7d32"),
        ("members", t.t("Tổng số thành viên"), 1, "#1565c0"),
        ("workers", t.t("Tổng số lao động thường xuyên"), 1, "#6a1b9a"),
        ("revenue", t.t("Tổng doanh thu ({unit})", unit=t.t(unit)), divisor, "#e65100"),
    ]
    plt.rcParams.update({"font.size": 16})
    fig, axes = plt.subplots(len(panels), 1, figsize=(9, 16), sharex=True)
    for ax, (key, title, scale, color) in zip(axes, panels, strict=True):
        values = [series[p][key] / scale for p in periods]
        ax.bar(labels, values, color=color)
        ax.set_title(title, fontsize=20, loc="left")
        ax.grid(axis="y", alpha=0.3)
        ax.spines[["top", "right"]].set_visible(False)
        for x, v in zip(labels, values, strict=True):
            if v:
                label = value_label(v, scale > 1)
                ax.annotate(label, (x, v), ha="center", va="bottom", fontsize=12)
    axes[-1].tick_params(axis="x", labelrotation=45)
    fig.suptitle(
        t.t("Báo cáo tháng {first} – {last}", first=labels[0], last=labels[-1]), fontsize=22
    )
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)
