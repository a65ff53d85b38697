"""Small checklists for the admin tests: a first version, a second one, and a broken one."""

CHECKLIST_V1 = """\
slug: admin-test
title: {zh: 管理测试检查表, en: Admin test checklist}
kind: audit
sections:
  - id: service
    function: service
    title: {zh: 优质服务, en: Quality service}
    items:
      - id: greet_10s
        moment: arrival
        type: yes_no
        kano: performance
        text: {zh: 顾客进厅10秒内主动问候, en: Greeting within 10 seconds of entry}
      - id: queue_minutes
        moment: waiting
        type: number
        kano: performance
        unit: {zh: 分钟, en: minutes}
        thresholds: {good: 10, fail: 20, better: lower}
        text: {zh: 取号到办理的等候时间, en: Waiting time from ticket to counter}
"""

# greet_10s reworded, queue_minutes removed, thank_customer added.
CHECKLIST_V2 = """\
slug: admin-test
title: {zh: 管理测试检查表, en: Admin test checklist}
kind: audit
sections:
  - id: service
    function: service
    title: {zh: 优质服务, en: Quality service}
    items:
      - id: greet_10s
        moment: arrival
        type: yes_no
        kano: performance
        weight: 2
        text:
          zh: 顾客进厅10秒内主动问候并询问需求
          en: Greeting within 10 s of entry, asking the need
      - id: thank_customer
        moment: departure
        type: yes_no
        kano: performance
        text: {zh: 离开时员工致谢, en: Staff thank the customer on leaving}
"""

# The scale item has options: the loader names the item in its message.
CHECKLIST_BROKEN = CHECKLIST_V1.replace(
    "        type: yes_no\n",
    "        type: scale\n        options: [{id: a, label: {zh: 甲, en: A}, score: 1}]\n", 1)
