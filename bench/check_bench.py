"""Time loading and checking: the shipped library, and 200 generated scenarios.

    python bench/check_bench.py [--count 200] [--repeat 3]

Prints the best of several runs for each set and the cost per scenario. The
generated packages are realistic in size: three entities of 15–20 fields,
forms with sections, filtered views, a workflow of eight states with tasks and
deadlines, a scoring rule and a dashboard.
"""

from __future__ import annotations

import argparse
import shutil
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from runtime.checker import check_paths  # noqa: E402

FIELD_TYPES = [
    ("text", "max: 80"),
    ("longtext", "max: 2000"),
    ("number", "min: 0"),
    ("money", "min: 0"),
    ("date", None),
    ("datetime", None),
    ("choice", "options: [甲, 乙, 丙, 丁]"),
    ("multichoice", "options: [一, 二, 三]"),
    ("bool", None),
    ("phone", None),
    ("idcard", None),
    ("image", "multiple: true"),
    ("rating", "max: 5"),
    ("org", "kind: department"),
    ("user", "role: member"),
]


def package_text(n: int) -> str:
    out = [
        f"id: gen_{n:04d}",
        "version: 1.0.0",
        f"title: 生成场景 {n}",
        "roles: {member: 成员, staff: 工作人员, handler: 承办单位}",
        "entities:",
    ]
    for e in range(3):
        out += [f"  item{e}:", f"    label: 事项{e}", "    fields:"]
        count = 15 + (n + e) % 6
        for f in range(count):
            kind, extra = FIELD_TYPES[f % len(FIELD_TYPES)]
            line = f"      f{f}: {{type: {kind}, label: 字段{f}"
            if extra:
                line += f", {extra}"
            if f == 0:
                line += ", required: true"
            if f == 4:
                line += ', visible: "f2 > 10 and f8 == true"'
            out.append(line + "}")
        out += [
            "    checks:",
            '      positive: {rule: "f2 >= 0 or f2 == null", message: 不能为负, field: f2}',
        ]
    out += ["forms:"]
    for e in range(3):
        out += [
            f"  new{e}:",
            f"    entity: item{e}",
            f"    label: 新建{e}",
            "    roles: [member]",
            "    sections:",
            "      a: {label: 基本, fields: [f0, f1, f2, f3]}",
            "      b: {label: 更多, fields: [f4, f5, f6, f7, f8]}",
        ]
    out += ["views:"]
    for e in range(3):
        out += [
            f"  list{e}:",
            f"    entity: item{e}",
            f"    label: 列表{e}",
            "    where: \"owner == user or state == 'done'\"",
            "    columns: [f0, f2, f6, state, created_at]",
            "    filters: [f6, f8, state]",
            "    sort: -created_at",
            "    export: true",
        ]
    out += [
        "workflows:",
        "  item0:",
        "    states:",
        "      draft: 草稿",
        "      review: {label: 审核, deadline: {days: 5, working: true, overdue: {notify: staff}}}",
        "      handling:",
        "        label: 办理",
        "        deadline: {field: f4, overdue: {notify: staff, fire: escalate}}",
        "        tasks: {to: [f13], then: done_all, fields: {answer: {type: longtext, label: 答复, required: true}}}",
        "      escalated: 督办",
        "      replied: 已答复",
        "      rejected: {label: 不予受理, final: true}",
        "      done: {label: 办结, final: true}",
        "    transitions:",
        "      submit: {from: draft, to: review, by: owner, notify: staff}",
        '      accept: {from: review, to: handling, by: staff, form: [f13, f4], require: [f13], when: "f4 > today"}',
        "      reject: {from: review, to: rejected, by: staff, comment: required}",
        "      escalate: {from: handling, to: escalated, by: system}",
        "      back: {from: escalated, to: handling, by: staff}",
        "      done_all: {from: handling, to: replied, by: system, notify: owner}",
        '      close: {from: replied, to: done, by: owner, form: [f12], when: "f12 >= 3"}',
        '      reopen: {from: replied, to: handling, by: owner, form: [f12], when: "f12 < 3"}',
        "scoring:",
        "  points:",
        "    subject: user",
        "    role: member",
        "    period: quarter",
        "    items:",
        "      done: {source: item0, where: \"state == 'done'\", points: 2, cap: 20}",
        "      many: {source: item1, points: 1, cap: 10, weight: 0.5}",
        "    bands: {good: {min: 80, label: 好}, fair: {min: 60, label: 较好}, poor: {min: 0, label: 差}}",
        "dashboards:",
        "  main:",
        "    cards:",
        "      total: {type: number, entity: item0}",
        "      done: {type: number, entity: item0, where: \"state == 'done'\"}",
        "      rate: {type: rate, numerator: done, denominator: total}",
        "      by: {type: pie, entity: item0, group_by: f6}",
    ]
    return "\n".join(out) + "\n"


def best_of(repeat: int, paths: list[Path]) -> tuple[float, int, int]:
    best = float("inf")
    packages = mistakes = 0
    for _ in range(repeat):
        start = time.perf_counter()
        result = check_paths(paths)
        best = min(best, time.perf_counter() - start)
        packages, mistakes = len(result.packages), len(result.mistakes)
    return best, packages, mistakes


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--count", type=int, default=200)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()

    shipped, n_shipped, m_shipped = best_of(
        args.repeat, [ROOT / "scenarios", ROOT / "scenarios.yaml"]
    )
    tmp = Path(tempfile.mkdtemp(prefix="yidi-bench-"))
    try:
        for n in range(args.count):
            folder = tmp / f"gen_{n:04d}"
            folder.mkdir()
            (folder / "scenario.yaml").write_text(package_text(n), "utf-8")
        generated, n_gen, m_gen = best_of(args.repeat, [tmp])
    finally:
        shutil.rmtree(tmp)
    print(f"{'set':<28}{'packages':>9}{'mistakes':>10}{'time':>10}{'per package':>14}")
    print(
        f"{'shipped library + manifest':<28}{n_shipped:>9}{m_shipped:>10}{shipped:>9.3f}s"
        f"{shipped / max(n_shipped, 1) * 1000:>12.1f}ms"
    )
    print(
        f"{'generated':<28}{n_gen:>9}{m_gen:>10}{generated:>9.3f}s"
        f"{generated / max(n_gen, 1) * 1000:>12.1f}ms"
    )
    print(
        f"target: {args.count} scenarios well under 2 s → {'met' if generated < 2 else 'NOT met'}"
    )
    if m_gen:
        print("warning: the generated set has mistakes; the figures include reporting them")


if __name__ == "__main__":
    main()
