"""The chrome's words in Simplified Chinese (default) and English.

Scenario labels carry their own languages (``{zh, en}``); this table holds the
words of the platform around them. ``t(key, locale)`` falls back to Chinese,
then to the key, so a missing English entry never breaks a page.
"""

from __future__ import annotations

from starlette.requests import Request

LOCALES = ("zh", "en")

MESSAGES: dict[str, tuple[str, str]] = {
    "home": ("首页", "Home"),
    "login": ("登录", "Sign in"),
    "logout": ("退出", "Sign out"),
    "login_name": ("账号", "Login"),
    "password": ("密码", "Password"),
    "login_failed": ("账号或密码不正确", "Wrong login or password"),
    "login_needed": ("请先登录", "Please sign in first"),
    "language": ("English", "中文"),
    "search": ("搜索", "Search"),
    "search_placeholder": ("输入关键词", "Keywords"),
    "filter": ("筛选", "Filter"),
    "all": ("全部", "All"),
    "clear": ("清除", "Clear"),
    "apply": ("应用", "Apply"),
    "next_page": ("下一页", "Next"),
    "prev_page": ("上一页", "Previous"),
    "first_page": ("第一页", "First"),
    "total": ("共 {n} 条", "{n} in all"),
    "total_more": ("超过 {n} 条", "more than {n}"),
    "no_records": ("暂无记录", "Nothing here yet"),
    "export_csv": ("导出 CSV", "Export CSV"),
    "export_xlsx": ("导出 Excel", "Export Excel"),
    "import": ("导入", "Import"),
    "new": ("新建", "New"),
    "edit": ("编辑", "Edit"),
    "save": ("保存", "Save"),
    "submit": ("提交", "Submit"),
    "cancel": ("取消", "Cancel"),
    "back": ("返回", "Back"),
    "next_step": ("下一步", "Next"),
    "prev_step": ("上一步", "Back"),
    "step_of": ("第 {i} 步，共 {n} 步", "Step {i} of {n}"),
    "required_mark": ("必填", "required"),
    "required": ("此项为必填", "This field is required"),
    "form_has_errors": ("请修改标出的内容后再提交", "Please correct the marked fields"),
    "saved": ("已保存", "Saved"),
    "created": ("已提交", "Submitted"),
    "conflict": (
        "该记录已被 {who} 修改，请核对后重新保存",
        "{who} changed this record meanwhile; check and save again",
    ),
    "someone": ("其他人", "someone else"),
    "not_found": ("找不到该页面或记录", "Page or record not found"),
    "forbidden": ("您没有权限访问这里", "You may not open this"),
    "bad_request": ("请求有误", "Bad request"),
    "server_error": ("服务暂时出错，请稍后再试", "Something went wrong; please try again"),
    "csrf_failed": ("页面已过期，请刷新后重试", "The page expired; reload and try again"),
    "too_large": ("上传的文件太大", "The upload is too large"),
    "timeline": ("变更记录", "Timeline"),
    "attachments": ("附件", "Attachments"),
    "created_at": ("创建时间", "Created"),
    "updated_at": ("更新时间", "Updated"),
    "created_by": ("创建人", "Created by"),
    "updated_by": ("更新人", "Updated by"),
    "owner": ("提交人", "Owner"),
    "org": ("所属单位", "Org unit"),
    "state": ("状态", "State"),
    "id": ("编号", "No."),
    "action_create": ("创建", "created"),
    "action_update": ("修改", "changed"),
    "action_transition": ("流转", "moved"),
    "action_delete": ("删除", "deleted"),
    "system": ("系统", "system"),
    "yes": ("是", "Yes"),
    "no": ("否", "No"),
    "my_work": ("我的工作", "My work"),
    "scenarios": ("应用场景", "Scenarios"),
    "views": ("查看", "Views"),
    "forms": ("填报", "Forms"),
    "import_title": ("导入数据", "Import data"),
    "import_file": ("选择 CSV 或 Excel 文件", "Choose a CSV or Excel file"),
    "import_preview": ("预览", "Preview"),
    "import_confirm": ("确认导入 {n} 条", "Import {n} rows"),
    "import_errors": (
        "{n} 行有错误，修改文件后重新上传；无错误的行不会单独导入",
        "{n} rows have errors; fix the file and upload it again",
    ),
    "import_row": ("行", "Row"),
    "import_column": ("列", "Column"),
    "import_message": ("问题", "Problem"),
    "import_done": ("已导入 {n} 条", "{n} rows imported"),
    "import_running": ("正在导入：{done} / {n}", "Importing: {done} of {n}"),
    "import_bad_file": ("无法读取该文件：{why}", "Cannot read this file: {why}"),
    "file_too_large": ("文件超过 {mb} MB", "The file is over {mb} MB"),
    "download": ("下载", "Download"),
    "none": ("—", "—"),
    "choose": ("请选择", "Choose"),
    "similar": ("相似的已有记录", "Similar existing records"),
}


def t(key: str, locale: str = "zh", **values: object) -> str:
    pair = MESSAGES.get(key)
    if pair is None:
        return key
    text = pair[1] if locale == "en" else pair[0]
    return text.format(**values) if values else text


def locale_of(request: Request, default: str = "zh") -> str:
    """?lang=en|zh wins, then the lang cookie, then the deployment default."""
    wanted = request.query_params.get("lang") or request.cookies.get("lang") or default
    return "en" if wanted.startswith("en") else "zh"
