"""The reports' fixed wording in Chinese and English, and number/time formats for each language."""

from collections.abc import Callable
from datetime import date, datetime

# key: (zh, en). Placeholders use str.format names.
LABELS: dict[str, tuple[str, str]] = {
    # headers
    "title_audit": ("现场督导辅导报告", "Coaching report — storefront audit"),
    "title_mystery": ("神秘顾客辅导报告", "Coaching report — mystery visit"),
    "title_store": ("门店服务质量报告", "Store service report"),
    "title_region": ("区域服务质量报告", "Region service report"),
    "audience_store": ("门店版", "Store version"),
    "audience_internal": (
        "内部版 · 含暗访员身份，请勿外传",
        "Internal version · names the mystery shopper, do not pass on",
    ),
    "store": ("门店", "Store"),
    "region": ("区域", "Region"),
    "visit_time": ("到访时间", "Visited"),
    "duration": ("时长", "Duration"),
    "checklist": ("检查表", "Checklist"),
    "version": ("版本", "version"),
    "supervisor": ("督导", "Supervisor"),
    "shopper": ("神秘顾客", "Mystery shopper"),
    "reviewer": ("复核人", "Reviewer"),
    "store_manager": ("厅主任", "Store manager"),
    "period": ("统计周期", "Period"),
    "as_of": ("数据截至", "Data as of"),
    "page": ("第 {n} 页", "Page {n}"),
    # page one
    "total_score": ("总分", "Total score"),
    "grade": ("等级", "Grade"),
    "red_line_title": ("触碰红线：100 − 1 = 0", "Red line: 100 − 1 = 0"),
    "red_line_reason": (
        "一次触碰红线，整次服务体验归零。不计红线时本次得分为 {raw}，因下列红线记为 0 分。",
        "One bad touchpoint spoils the whole experience. Without the red line this visit "
        "would have scored {raw}; it scores 0 because of:",
    ),
    "flagged": ("需关注 · 现场标记", "Needs attention · marked during the visit"),
    "flagged_hint": (
        "采集时标记、请先看的检查项，无论结果如何。",
        "Items marked on the spot to be looked at first, whatever their result.",
    ),
    "flagged_mark": ("需关注", "Needs attention"),
    "strengths": ("做得好的地方 · 用事实表扬", "What went well · praise with facts"),
    "strengths_hint": (
        "当场、具体、当着大家的面表扬。",
        "Praise on the spot, with the facts, in front of the team.",
    ),
    "no_strengths": (
        "本次没有完全达标的检查项。先了解背景，找到一个可以肯定的努力。",
        "No item was fully met this time. Understand the background first and find one "
        "effort to acknowledge.",
    ),
    "gaps": ("需要改进的地方 · 启发式辅导", "What to improve · coach by questions"),
    "gaps_hint": (
        "先问，让员工自己找到办法；再商定行动。",
        "Ask first and let the person find the answer; then agree an action.",
    ),
    "no_gaps": ("所有检查项都已达标。", "Every item was met."),
    "standard": ("标准", "Standard"),
    "observed": ("现场记录", "Observed"),
    "question": ("辅导提问", "Coaching question"),
    "script": ("推荐话术", "Suggested line"),
    "generic_question": (
        "这一项什么情况下最容易做不到？怎样才能每次都做到？",
        "When is this hardest to get right, and what would make it happen every time?",
    ),
    "actions": ("改进行动", "Improvement actions"),
    "actions_proposed": ("待确认的建议", "proposals to confirm"),
    "actions_hint": (
        "“待确认”是根据本次差距生成的建议：谈话中与厅主任商定负责人和完成期限后才生效。",
        "'To confirm' marks a proposal made from this visit's gaps: it counts once the store "
        "manager and the supervisor agree an owner and a due date.",
    ),
    "earlier_actions": ("上次到访的行动", "Last visit's actions"),
    "earlier_hint": (
        "以往到访商定的行动：仍未关闭的，以及自上次到访以来完成或复查的。",
        "Actions agreed at earlier visits: those still open, and those done or verified since "
        "the previous visit.",
    ),
    "no_earlier": ("没有以往到访商定的行动。", "No action agreed at an earlier visit."),
    "closed_on": ("完成日期", "Done on"),
    "badge_no": ("工号 {badge}", "badge {badge}"),
    "dismiss_reason": ("未采纳原因", "Dismissed because"),
    "reject_reason": ("退回原因", "Sent back because"),
    "fix_note": ("整改说明", "The store's note"),
    "fix_photos": ("整改照片 {n} 张", "Photos of the fix: {n}"),
    "signed_line": ("厅主任{name}已于 {time} 签名确认",
                    "Signed off by the store manager {name}, {time}"),
    "acknowledged_line": ("厅主任{name}已于 {time} 在应用中确认",
                          "Acknowledged in the app by the store manager {name}, {time}"),
    "plan": ("行动计划", "Action plan"),
    "plan_hint": (
        "与厅主任商定：每项行动有负责人（门店员工名单）、完成期限和辅导提问；整改后拍照上传，"
        "督导或区域经理验收。",
        "Agreed with the store manager: each action has an owner from the store's staff list, a "
        "due date and its coaching question; the fix is shown with photos and approved by the "
        "supervisor or the regional manager.",
    ),
    "action": ("行动", "Action"),
    "owner": ("负责人", "Owner"),
    "due": ("完成期限", "Due"),
    "status": ("状态", "Status"),
    "no_actions": (
        "尚未登记行动：请在辅导谈话中商定，写明负责人和完成期限。",
        "No action recorded yet: agree them in the conversation, with an owner and a due "
        "date.",
    ),
    "base_and_bonus": (
        "基础分 {base} · 含兴奋型加分 +{bonus}", "Base {base} · incl. delighter bonus +{bonus}",
    ),
    "best_moment": ("最打动顾客的细节", "The moment that impressed the customer most"),
    "red_lines_kept": (
        "本次没有触碰红线：{n} 项红线全部守住。",
        "No red line was crossed: all {n} were kept.",
    ),
    "review_mark": (
        "待复核 · 结果尚未复核，可能变动", "Awaiting review · results may still change",
    ),
    "story": ("暗访经过", "The visit as the shopper lived it"),
    "scenario": ("任务情景", "Scenario"),
    "narrative": ("暗访员的叙述", "The shopper's account"),
    "durations": ("关键时长（以计时为准）", "Key durations (from the timers)"),
    "timed_visit": ("整个到访", "Whole visit"),
    "peak_end": ("峰值与结尾 · 顾客记住的时刻", "Peak and end · what the customer remembers"),
    "more_items": ("另有 {n} 项，见逐项明细", "{n} more in the details"),
    "compare": ("与上次和区域比较", "Compared with last time and the region"),
    "compare_hint": (
        "同一检查表、已发布的到访，得分率不含加分；区域平均不含本次，n 为到访次数。",
        "Published visits of the same checklist, percent without bonus; the region average "
        "leaves this visit out; n is the number of visits.",
    ),
    "this_visit": ("本次", "This visit"),
    "previous_visit": ("上次", "Last time"),
    "region_days": ("区域近 {days} 天", "Region, {days} days"),
    "no_previous": ("没有可比的上次到访", "No earlier comparable visit"),
    "nothing_to_compare": (
        "没有可比的到访：本店没有更早的同一检查表到访，区域近 {days} 天也没有（n = 0）。",
        "Nothing to compare with: no earlier visit of this store with the same checklist, and "
        "none in the region in the last {days} days (n = 0).",
    ),
    "vs_previous": ("比上次", "vs last time"),
    "vs_region": ("比区域", "vs region"),
    "photo_n": ("照片 {n}", "Photo {n}"),
    "overall_photos": ("现场照片", "Photos of the visit"),
    "overall_photo": ("总体照片", "Overall photo"),
    "timer_value": ("计时 {value}", "{value} (timed)"),
    "timer_conflict": ("记录为 {recorded}，以计时为准", "recorded as {recorded}; the timer counts"),
    # later pages
    "grid_title": ("六大功能 × 关键时刻", "Six functions × key moments"),
    "grid_hint": (
        "每格为该功能在该关键时刻的得分率（不含加分），“+”为兴奋型加分（分值），只加不减；"
        "越红越弱，灰色为没有计分项。",
        "Each cell is the percent a function earned at a key moment, without bonus; '+' is a "
        "delighter bonus in points, which only adds; redder is weaker, grey has nothing scored.",
    ),
    "function": ("功能", "Function"),
    "moment": ("关键时刻", "Key moment"),
    "timeline": ("关键时刻时间线", "Timeline of key moments"),
    "timeline_hint": (
        "顾客记住的是峰值和结尾（峰终定律）：争议与离开放在最前面看。",
        "Customers remember the peak and the end (peak–end rule): look at the dispute and "
        "the departure first.",
    ),
    "time": ("时间", "Time"),
    "since_previous": ("距上一时刻", "Since previous"),
    "peak": ("峰值", "Peak"),
    "end": ("结尾", "End"),
    "intervals": ("关键时长", "Key durations"),
    "details": ("逐项明细", "Every section in detail"),
    "item": ("检查项", "Item"),
    "answer": ("结果", "Answer"),
    "points": ("得分", "Points"),
    "note": ("备注", "Note"),
    "staff": ("员工", "Staff"),
    "notes": ("总体记录", "Visit notes"),
    "audience_internal_audit": (
        "内部版 · 含复核信息，请勿外传", "Internal version · with review details, do not pass on",
    ),
    "notes_supervisor": ("督导总体记录", "The supervisor's notes"),
    "notes_shopper": ("暗访员总体记录", "The shopper's notes"),
    "impression": ("暗访员总体印象", "The shopper’s overall impression"),
    "how_scored": ("分数是怎样计算的", "How the score was computed"),
    "ack_title": ("确认签字", "Acknowledgement"),
    "ack_text": (
        "以上内容已当面沟通，双方确认改进行动、负责人和完成期限，下次到访时复查。",
        "We went through this report together and agree the actions, owners and due dates; "
        "they will be checked at the next visit.",
    ),
    "signature": ("签名", "Signature"),
    "ack_signed": (
        "厅主任已在督导的平板上看过本次摘要（得分、做得好的地方、辅导提问和行动），签名确认本报告"
        "中的行动计划；下次到访时逐项复查。",
        "The store manager went through the summary (score, strengths, coaching questions and "
        "actions) on the supervisor's tablet and signed to confirm this report's action plan; it "
        "will be checked item by item at the next visit.",
    ),
    "ack_in_app": (
        "厅主任已在自己的应用中阅读并确认本报告。",
        "The store manager read and acknowledged this report in their own app.",
    ),
    "signed_by": ("签名人", "Signed by"),
    "acknowledged_by": ("确认人", "Acknowledged by"),
    "signed_at": ("签名时间", "Signed"),
    "acknowledged_at": ("确认时间", "Acknowledged"),
    "acknowledged_in_app": (
        "已在应用中确认（无手写签名）", "Acknowledged in the app (no handwritten signature)",
    ),
    "signoff_comment": ("厅主任意见", "The store manager's comment"),
    "recorded_by": ("记录人", "Recorded by"),
    "date": ("日期", "Date"),
    "yes": ("是", "Yes"),
    "no": ("否", "No"),
    "na": ("不适用", "N/A"),
    "unanswered": ("未作答", "Not answered"),
    "section": ("环节", "Section"),
    # statuses
    "status_met": ("达标", "Met"),
    "status_partial": ("部分达标", "Partly met"),
    "status_failed": ("未达标", "Not met"),
    "status_red_line": ("红线", "Red line"),
    "status_na": ("不适用", "N/A"),
    "status_not_applicable": ("不涉及", "Not in play"),
    "status_unanswered": ("未作答", "Not answered"),
    "status_unscored": ("记录", "Record only"),
    "status_proposed": ("待确认", "To confirm"),
    "status_no_bonus": ("未加分", "No bonus"),
    "status_open": ("进行中", "Open"),
    "status_agreed": ("已商定", "Agreed"),
    "status_done": ("已整改，待验收", "Done, to approve"),
    "status_verified": ("已验收", "Verified"),
    "status_reopened": ("退回重改", "Reopened"),
    "status_dismissed": ("未采纳", "Dismissed"),
    "status_overdue": ("已逾期", "Overdue"),
    "status_closed": ("已办结", "Closed"),
    # kano
    "kano_must_be": ("基本型", "Must-be"),
    "kano_performance": ("期望型", "Performance"),
    "kano_delighter": ("兴奋型", "Delighter"),
    # explanation
    "expl_formula": (
        "总分 = 基础分 + 兴奋型加分：基础分 = 100 × 得分 ÷ 应得分，加分 = 100 × 兴奋型得分 ÷ "
        "应得分。合计最高 100；只要基本型或期望型有失分，最高 99.9；触碰任一红线则为 0。",
        "Total = base + delighter bonus: base = 100 × earned ÷ possible, bonus = 100 × delighter "
        "points ÷ possible. At most 100, and at most 99.9 once any must-be or performance point "
        "was lost; any failed red line makes it 0.",
    ),
    "expl_weights": (
        "每项的分值 = 权重 × 峰终系数 {peak_end}（争议、离开环节）× 基本型系数 {must_be}。",
        "Each item's stake = weight × peak–end factor {peak_end} (dispute and departure) × "
        "must-be factor {must_be}.",
    ),
    "expl_kano": (
        "基本型只有完全做到才得分；期望型按做到的程度得分；兴奋型只加分，没做到记“未加分”，不扣分。",
        "Must-be items score only when fully met; performance items score in proportion; "
        "delighters only add a bonus, and one not achieved is “no bonus”, never a loss.",
    ),
    "expl_na": (
        "“不适用”和不涉及的检查项不计入应得分；必答而未作答的计 0 分。",
        "Items answered N/A or not in play leave the denominator; required items left "
        "unanswered score 0.",
    ),
    "expl_counts": (
        "本次：计分 {scored} 项，未加分的兴奋型 {no_bonus} 项，不适用 {na} 项，不涉及 {off} 项，"
        "未作答 {unanswered} 项，红线 {red} 项。",
        "This visit: {scored} items scored, {no_bonus} delighters without bonus, {na} N/A, "
        "{off} not in play, {unanswered} unanswered, {red} red line.",
    ),
    "expl_sum": (
        "得分 {earned} ÷ 应得分 {possible} → 基础分 {base}；兴奋型得分 {bonus} → 加分 "
        "+{bonus_points}",
        "Earned {earned} of a possible {possible} → base {base}; delighter points {bonus} → "
        "bonus +{bonus_points}",
    ),
    "max": ("满分", "Max"),
    "percent": ("得分率", "Score"),
    # store and region
    "visits": ("到访次数", "Visits"),
    "average": ("平均分", "Average"),
    "latest": ("最近一次", "Latest"),
    "region_average": ("区域平均", "Region average"),
    "trend_total": ("总分趋势", "Total score over time"),
    "trend_functions": ("六大功能趋势", "The six functions over time"),
    "recurring": ("反复未达标的检查项", "Items that keep failing"),
    "times_failed": ("未达标次数", "Times not met"),
    "of_visits": ("/ {n} 次", "of {n}"),
    "no_recurring": (
        "本期没有反复未达标的检查项。",
        "No item failed more than once in this period.",
    ),
    "actions_summary": ("改进行动", "Corrective actions"),
    "open": ("进行中", "Open"),
    "agreed": ("已商定", "Agreed"),
    "reopened": ("已退回重改", "Reopened"),
    "overdue": ("已逾期", "Overdue"),
    "closed": ("已完成", "Closed"),
    "disputes": ("争议处理", "Disputes"),
    "received": ("受理时间", "Received"),
    "reference": ("单号", "Reference"),
    "matter": ("事由", "Matter"),
    "on_time": ("按时办结", "Closed on time"),
    "late": ("超时办结", "Closed late"),
    "open_overdue": ("逾期未结", "Open, overdue"),
    "open_in_time": ("处理中", "Open, in time"),
    "overdue_disputes": ("逾期未结争议", "Overdue disputes"),
    "no_disputes": ("本期没有争议记录。", "No dispute recorded in this period."),
    "compare_region": ("与区域平均比较", "Compared with the region"),
    "this_store": ("本店", "This store"),
    "difference": ("差值", "Difference"),
    "no_visits": ("本期没有已发布的到访。", "No published visit in this period."),
    "summary": ("一分钟摘要", "One-minute summary"),
    "stores_visited": ("到访门店", "Stores visited"),
    "ranking": ("门店排名", "Store ranking"),
    "rank": ("名次", "Rank"),
    "trend": ("趋势", "Trend"),
    "heatmap_stores": ("门店 × 六大功能", "Stores × the six functions"),
    "weakest": ("全区最薄弱的检查项", "Weakest items across the region"),
    "fail_rate": ("未达标率", "Not met"),
    "red_line_stores": ("触碰红线的门店", "Stores with red lines"),
    "red_line_visits": ("触碰红线的到访", "Visits with a red line"),
    "stores_affected": ("涉及门店", "Stores"),
    "no_red_lines": ("本期没有门店触碰红线。", "No store crossed a red line in this period."),
    "overdue_actions": ("逾期的改进行动", "Overdue actions"),
    "no_overdue": ("没有逾期的改进行动。", "No overdue action."),
    "best_stores": ("表现最好", "Best"),
    "weakest_stores": ("最需要关注", "Needs attention"),
    "not_visited": ("本期未到访", "Not visited in this period"),
    "more": ("另有 {n} 条未列出", "{n} more not listed"),
    # store and region, per checklist
    "checklist_block": ("{title} · {n} 次到访", "{title} · {n} visits"),
    "checklist_block_one": ("{title} · 1 次到访", "{title} · 1 visit"),
    "n_of": ("n = {n}", "n = {n}"),
    "small_n_badge": ("样本少", "few visits"),
    "small_n_note": (
        "到访少于 {n} 次的门店不排名次，列在后面并标“样本少”，分数仅供参考。",
        "A store with fewer than {n} visits is not ranked: it is listed after the others, "
        "marked “few visits”; read its figures with care.",
    ),
    "averages_by_checklist": ("各检查表平均分（不同检查表不合并计算）",
                              "Averages by checklist (never mixed)"),
    "to_confirm": ("待确认", "To confirm"),
    "no_visits_store": (
        "本期没有已发布的到访，暂无分数、趋势和排名。",
        "No published visit in this period: no scores, trends or rankings yet.",
    ),
    "no_ranked": (
        "没有到访满 {n} 次的门店，本期不排名次。",
        "No store has {n} visits or more: none is ranked in this period.",
    ),
    "small_n_footnote": ("n < {n}：样本少，仅供参考。", "n < {n}: few visits, read with care."),
    "visit_list": ("本期到访", "Visits in this period"),
    "agreed_actions": ("已商定的行动", "Agreed actions"),
    "proposals": ("待确认的建议", "Proposals to confirm"),
    "proposals_hint": (
        "根据到访差距生成的建议，厅主任与督导商定负责人和完成期限后才计入行动，不会逾期。",
        "Made from the visits' gaps; they count as actions once the store manager and the "
        "supervisor agree an owner and a due date, and are never overdue.",
    ),
    "proposed_due": ("建议期限", "Suggested due"),
    "no_open_actions": ("没有进行中的行动。", "No action open."),
    # closing the actions
    "to_approve": ("待验收", "To approve"),
    "closure_rate": ("闭环率", "Closure rate"),
    "median_days": ("闭环天数中位数", "Median days to close"),
    "median_days_kpi": ("闭环天数中位数（天）", "Median days to close"),
    "agreed_n": ("本期商定", "Agreed"),
    "verified_n": ("已验收", "Verified"),
    "overdue_now": ("当前逾期", "Overdue now"),
    "days_unit": ("天", "days"),
    "closure_by_store": ("各门店改进行动闭环", "Closing the actions, store by store"),
    "region_total": ("全区", "Whole region"),
    "closure_footnote": (
        "闭环率 = 本期商定的行动（按商定日期计，未采纳的建议不计）中截至数据日已验收的比例；"
        "闭环天数中位数 = 其中已验收的行动从商定到验收所用天数的中位数；n 为本期商定的行动数。",
        "Closure rate = of the actions agreed in the period (by the day they were agreed; "
        "dismissed proposals left out), the share verified by the data date. Median days to "
        "close = the median of the days from agreement to verification of those verified. "
        "n = actions agreed in the period.",
    ),
    # the store's queries of mystery results
    "queries": ("申诉 · 门店对暗访结果的质疑",
                "Queries · the store's challenges of mystery results"),
    "queries_line": ("{published} 次暗访结果中 {queried} 次被申诉（{rate}）",
                     "{queried} of {published} mystery results queried ({rate})"),
    "queried_n": ("被申诉", "Queried"),
    "mystery_results": ("暗访结果", "Mystery results"),
    "query_rate": ("申诉率", "Query rate"),
    "q_upheld": ("维持", "Upheld"),
    "q_amended": ("更正", "Amended"),
    "q_reshop": ("重访", "Re-shop"),
    "q_open": ("待裁定", "Open"),
    "queries_footnote": (
        "申诉率 = 本期已发布的暗访结果中至少被门店申诉一次的比例；结果按每条申诉计。"
        "重访的原结果不计入平均分。",
        "Query rate = of the mystery results published in the period, the share the store "
        "queried at least once; outcomes count each query. A result ordered re-shopped is left "
        "out of the averages.",
    ),
    # the change record (issue 19): what changed after submission
    "change_record": ("修改记录 · 提交后的每一次修改",
                      "Change record · every change after submission"),
    "change_record_hint": (
        "谁、何时、为何修改；修改前后的答案和总分。",
        "Who changed what, when and why; the answers and the total before and after.",
    ),
    "corrections": ("申诉后更正", "Corrected after query"),
    "corrections_hint": (
        "门店对下列检查项提出申诉，复核人据实更正；理由即复核人的裁定理由。",
        "The store queried these items and the reviewer corrected them; the reason is the "
        "reviewer's ruling.",
    ),
    "change_review_edit": ("复核修改", "Review edit"),
    "change_query_amend": ("申诉更正", "Amended on query"),
    "change_resubmission": ("退回后重新提交", "Resubmitted after return"),
    "modified_mark": ("已修改", "Modified"),
    "corrected_mark": ("申诉后更正", "Corrected after query"),
    "change_when": ("时间 · 类别", "When · kind"),
    "change_what": ("改动", "What changed"),
    "change_why": ("原因", "Why"),
    "ruling_reason": ("裁定理由", "Ruling"),
    "change_total": ("总分", "Total"),
    "photos_changed": ("照片 {old} → {new} 张", "photos {old} → {new}"),
    "note_changed": ("备注已更改", "note changed"),
    "staff_changed": ("员工 {old} → {new}", "staff {old} → {new}"),
    "flag_changed": ("需关注标记已更改", "needs-attention mark changed"),
    "moment_changed": ("时间点", "Moment"),
    "visit_notes_changed": ("访问备注", "Visit notes"),
    "changed": ("已更改", "changed"),
}

FREQUENCY = {
    1: ("从不", "never"), 2: ("很少", "rarely"), 3: ("有时", "sometimes"),
    4: ("通常", "usually"), 5: ("总是", "always"),
}
TREND_ARROWS = {"up": "↑", "down": "↓", "flat": "→", None: "·"}


def is_zh(lang: str) -> bool:
    return lang.lower().startswith("zh")


def translator(lang: str) -> Callable[..., str]:
    """t(key, **values) in `lang`; an unknown key shows itself, so a typo is visible."""
    index = 0 if is_zh(lang) else 1

    def t(key: str, **values) -> str:
        pair = LABELS.get(key)
        text = pair[index] if pair else key
        return text.format(**values) if values else text

    return t


def pick(text: dict | None, lang: str) -> str | None:
    """The `lang` side of a {zh, en} dict (or of a definition Text)."""
    if text is None:
        return None
    if hasattr(text, "get") and not isinstance(text, dict):
        return text.get(lang)
    return text["zh"] if is_zh(lang) else text["en"]


def duration(seconds: float | None, lang: str) -> str | None:
    """'12 分 5 秒' / '12 min 5 s'; hours when long."""
    if seconds is None:
        return None
    seconds = max(0, round(seconds))
    hours, rest = divmod(seconds, 3600)
    minutes, secs = divmod(rest, 60)
    parts = [(hours, "小时", "h"), (minutes, "分", "min"), (secs, "秒", "s")]
    shown = [(n, zh, en) for n, zh, en in parts if n] or [(0, "秒", "s")]
    return " ".join(f"{n} {zh if is_zh(lang) else en}" for n, zh, en in shown[:2])


def day(value: date | datetime | None) -> str | None:
    return value.strftime("%Y-%m-%d") if value else None


def minute(value: datetime | None) -> str | None:
    return value.strftime("%Y-%m-%d %H:%M") if value else None


def number(value: float | None, digits: int = 1) -> str:
    """A score as people write it: 87.5, 90 (not 90.0), – when missing."""
    if value is None:
        return "–"
    text = f"{value:.{digits}f}"
    return text.rstrip("0").rstrip(".") if "." in text else text
