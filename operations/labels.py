"""Names of the registry's codes as staff and members read them (translated where shown)."""

from ground.i18n import N_

SECTOR_NAMES = {
    "nong_lam_thuy_san": N_("Nông – lâm – thủy sản"),
    "cong_nghiep_ttcn": N_("Công nghiệp – TTCN"),
    "thuong_mai_dich_vu": N_("Thương mại – dịch vụ"),
    "xay_dung": N_("Xây dựng"),
    "van_tai": N_("Vận tải"),
    "tin_dung": N_("Tín dụng"),
    "khac": N_("Lĩnh vực khác"),
}
KIND_NAMES = {
    "htx": N_("Hợp tác xã"),
    "tht": N_("Tổ hợp tác"),
    "lhhtx": N_("Liên hiệp hợp tác xã"),
}
