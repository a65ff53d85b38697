"""The admin preview of a checklist version: the store's standard beside the collector's
guidance, each labelled with its reader, in both languages."""

import re

import pytest

from tests.conftest import log_in


def _item(page: str, item_id: str) -> str:
    return re.search(rf'<article class="item" id="item-{item_id}".*?</article>', page, re.S)[0]


@pytest.mark.parametrize(("lang", "standard", "guidance", "report", "timed"), [
    ("zh", "标准（门店可见）：", "操作说明（仅暗访员可见）：", "门店报告中的题目：",
     "计时：取号到被叫号"),
    ("en", "Standard, for the store:", "Guidance, for the mystery shopper only:",
     "In the store report:", "Timed: Ticket to being called"),
])
def test_the_preview_labels_who_reads_each_text(client, make_user, load_checklists, lang,
                                                standard, guidance, report, timed):
    versions = load_checklists()
    log_in(client, make_user("admin"))
    page = client.get(f"/admin/checklists/mystery-visit/v/{versions['mystery-visit']}"
                      f"?lang={lang}").get_data(as_text=True)
    wait = _item(page, "wai_minutes")
    assert standard in wait and guidance in wait and report in wait and timed in wait
    expected = {"zh": ("顾客从取号到被叫号等候的分钟数", "取号时按下“取号”"),
                "en": ("Minutes the customer waited from ticket to call", "Press &#34;Took")}
    assert all(text in wait for text in expected[lang])
    assert standard not in _item(page, "dep_overall_impression")  # unscored: no standard


def test_an_audit_labels_the_supervisor(client, make_user, load_checklists):
    versions = load_checklists()
    log_in(client, make_user("admin"))
    page = client.get(f"/admin/checklists/storefront-audit/v/{versions['storefront-audit']}"
                      "?lang=zh").get_data(as_text=True)
    signage = _item(page, "img_signage_clean")
    assert "操作说明（仅督导可见）：" in signage and "暗访员" not in signage
    assert "门店报告中的题目：" not in signage  # audit items are written for the store already
