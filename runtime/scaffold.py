"""``yidi new ID``: a commented starter package that passes ``yidi check``."""

from __future__ import annotations

import os
import re
from pathlib import Path

from runtime.schema import SCHEMA_DIR


class ScaffoldError(Exception):
    pass


TEMPLATE = """\
# yaml-language-server: $schema={schema}
# A starter scenario. Every key is documented in the schema above: an editor
# with the YAML extension shows help and completion. Check it with:
#   yidi check {folder}

id: {id}
version: 0.1.0
title: {{zh: 新场景, en: New scenario}}
description: 一句话说明这个场景做什么。
tags: [示例]

# Scenario roles; scenarios.yaml maps them to the deployment's platform roles.
roles:
  staff: 工作人员
  deputy: 人大代表

entities:
  item:                      # one kind of record (a table)
    label: 事项
    fields:                  # keyed by id; the order here is the order on forms
      title: {{type: text, label: 标题, required: true, max: 80}}
      category: {{type: choice, label: 类别, options: [一般, 紧急]}}
      body: {{type: longtext, label: 内容, required: true}}
      due: {{type: date, label: 期限, visible: "category == '紧急'"}}

forms:
  new:                       # without fields, a form takes every editable field
    entity: item
    label: 新建事项
    roles: [deputy]
    then: submit             # take this transition right after creating
    success: 已提交，感谢！

views:
  mine:
    entity: item
    label: 我的事项
    where: "owner == user"
  all:
    entity: item
    label: 全部事项
    roles: [staff]
    filters: [category, state]
    export: true

workflows:
  item:                      # the workflow of entity 'item'
    states:
      draft: 草稿
      review: 审核中
      done: {{label: 已办结, final: true, tone: success}}
    transitions:
      submit: {{from: draft, to: review, by: owner, label: 提交, notify: staff}}
      finish: {{from: review, to: done, by: staff, label: 办结}}
      return: {{from: review, to: draft, by: staff, label: 退回, comment: required}}
"""

README = """\
# {id}

A new scenario. Describe here who uses it and how; the catalog shows this page.
"""


def scaffold(package_id: str, parent: Path) -> Path:
    if not re.fullmatch(r"[a-z][a-z0-9_]{0,47}", package_id):
        raise ScaffoldError(
            f"'{package_id}' is not a valid id (expected lower snake_case like my_scenario)"
        )
    folder = parent / package_id
    if folder.exists():
        raise ScaffoldError(f"{folder} already exists")
    folder.mkdir(parents=True)
    schema = os.path.relpath(SCHEMA_DIR / "scenario.schema.json", folder.resolve())
    (folder / "scenario.yaml").write_text(
        TEMPLATE.format(id=package_id, schema=schema, folder=folder), "utf-8"
    )
    (folder / "README.md").write_text(README.format(id=package_id), "utf-8")
    return folder
