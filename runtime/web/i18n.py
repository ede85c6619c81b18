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
    # the admin pages (/admin/…)
    "admin": ("管理", "Admin"),
    "admin_orgs": ("组织机构", "Org tree"),
    "admin_orgs_help": (
        "省、市、县、乡镇（街道）、联络站、联络点和部门",
        "Province, cities, counties, townships, stations, points and departments",
    ),
    "admin_users": ("用户与授权", "Users and roles"),
    "admin_users_help": (
        "账号、重置密码、在单位授予角色",
        "Accounts, password resets, roles at org units",
    ),
    "admin_import": ("批量导入用户", "Import users"),
    "admin_import_help": (
        "从 CSV 或 Excel 导入账号和角色",
        "Accounts and their roles from CSV or Excel",
    ),
    "admin_audit": ("审计日志", "Audit log"),
    "admin_audit_help": (
        "谁在何时改了什么：权限、账号、机构和业务记录",
        "Who changed what and when: grants, accounts, units and records",
    ),
    "admin_orgs_note": (
        "标注“来自部署清单”的单位在 scenarios.yaml 中声明，此处只读；可在任一单位下添加下级单位。",
        "Units marked “from the manifest” are declared in scenarios.yaml and read-only here; "
        "add units below any unit.",
    ),
    "admin_from_manifest": ("来自部署清单", "from the manifest"),
    "admin_inactive": ("已停用", "Inactive"),
    "admin_active": ("启用", "Active"),
    "admin_add_below": ("添加下级单位", "Add a unit below"),
    "admin_org_new": ("添加单位", "New org unit"),
    "admin_org_edit": ("单位", "Org unit"),
    "admin_parent": ("上级单位", "Parent unit"),
    "admin_unit_id": ("单位编号", "Unit id"),
    "admin_unit_id_help": (
        "小写英文字母开头，只含小写字母、数字和下划线，如 lc_wuma_pt2；创建后不能修改",
        "Lower-case snake_case starting with a letter, e.g. lc_wuma_pt2; cannot change later",
    ),
    "admin_label_zh": ("中文名称", "Name (Chinese)"),
    "admin_label_en": ("英文名称", "Name (English)"),
    "admin_kind": ("层级类型", "Kind"),
    "admin_path": ("路径", "Path"),
    "admin_unit_active": ("单位启用", "Unit is active"),
    "admin_unit_active_help": (
        "停用的单位保留其数据，但不能再添加下级单位或授权",
        "An inactive unit keeps its data but takes no new units or grants",
    ),
    "admin_read_only": (
        "此单位在部署清单 scenarios.yaml 中声明，请在清单中修改。",
        "This unit is declared in scenarios.yaml; change it there.",
    ),
    "admin_unit_id_format": (
        "编号须以小写字母开头，只含小写字母、数字和下划线（最多 48 位）",
        "Use lower-case letters, digits and underscores, starting with a letter (at most 48)",
    ),
    "admin_unit_id_taken": ("该编号已被使用", "This id is already used"),
    "admin_unit_inactive": ("该单位已停用", "This unit is inactive"),
    "admin_kind_unknown": ("未知的层级类型", "Unknown kind"),
    "admin_kind_level": (
        "“{kind}”不能设在“{parent}”之下；可选：{allowed}",
        "A {kind} cannot sit under a {parent}; choose one of: {allowed}",
    ),
    "admin_unit_has_children": (
        "该单位下还有 {n} 个启用的下级单位，请先停用它们",
        "{n} active units sit below it; switch them off first",
    ),
    "admin_unit_has_grants": (
        "该单位还有 {n} 项授权，请先移除",
        "{n} grants are held at this unit; remove them first",
    ),
    "admin_too_long": ("最多 {n} 个字符", "At most {n} characters"),
    "admin_ok_org_created": ("已添加单位", "Unit added"),
    "admin_ok_org_saved": ("已保存", "Saved"),
    "admin_ok_user_created": (
        "已创建账号；请授予角色并重置密码以发放初始密码",
        "Account created; grant roles and reset the password to issue one",
    ),
    "admin_ok_user_saved": ("已保存", "Saved"),
    "admin_ok_grant_added": ("已添加授权", "Role granted"),
    "admin_ok_grant_removed": ("已移除授权", "Grant removed"),
    "kind_province": ("省", "Province"),
    "kind_city": ("市", "City"),
    "kind_county": ("县（市、区）", "County"),
    "kind_township": ("乡镇（街道）", "Township / street"),
    "kind_station": ("代表联络站", "Liaison station"),
    "kind_point": ("代表联络点", "Liaison point"),
    "kind_department": ("部门", "Department"),
    "admin_user": ("用户", "User"),
    "admin_user_new": ("新建用户", "New user"),
    "admin_user_new_help": (
        "新账号没有密码：创建后授予角色，再重置密码以生成初始密码。",
        "A new account has no password: grant roles, then reset the password to issue one.",
    ),
    "admin_name": ("姓名", "Name"),
    "admin_status": ("状态", "Status"),
    "admin_unit": ("单位", "Org unit"),
    "admin_role": ("角色", "Role"),
    "admin_grants": ("授权", "Grants"),
    "admin_no_grants": ("暂无授权", "No grants yet"),
    "admin_add_grant": ("添加授权", "Grant a role"),
    "admin_remove": ("移除", "Remove"),
    "admin_search_users": ("账号或姓名", "Login or name"),
    "admin_no_password": ("未设密码", "No password"),
    "admin_locked": ("已锁定", "Locked"),
    "admin_account_active": (
        "账号启用（停用后不能登录）",
        "Active (an inactive account cannot sign in)",
    ),
    "admin_login_help": (
        "字母或数字开头，可含字母、数字和 . _ - @，2–64 位",
        "Starts with a letter or digit; letters, digits and . _ - @; 2 to 64 characters",
    ),
    "admin_login_format": (
        "账号格式不正确：字母或数字开头，可含字母、数字和 . _ - @，2–64 位",
        "Bad login: letters, digits and . _ - @, 2 to 64, starting with a letter or digit",
    ),
    "admin_login_taken": ("该账号已存在", "This login is taken"),
    "admin_reset_password": ("重置密码", "Reset password"),
    "admin_reset_help": (
        "生成一个新的随机密码，只在页面上显示一次；该用户已登录的会话将被注销。",
        "Makes a new random password, shown once on this page; the user's sessions end.",
    ),
    "admin_new_password": (
        "新密码（只显示这一次，请当面或通过安全渠道交给本人）：",
        "New password (shown only once; hand it over securely):",
    ),
    "admin_new_password_help": (
        "系统只保存密码的摘要，无法再次查看；遗失后请重新重置。",
        "Only a hash is kept; if it is lost, reset again.",
    ),
    "admin_not_manageable": (
        "该账号在您的管理范围之外也有授权，您只能查看，或在您的范围内为其添加授权。",
        "This account holds roles outside your part of the tree: you may only view it "
        "or grant roles within your part.",
    ),
    "admin_not_yourself": ("不能停用自己的账号", "You cannot switch off your own account"),
    "admin_last_admin": (
        "这是最后一项全局管理员授权，不能移除",
        "This is the last admin grant at the top of the tree; it cannot be removed",
    ),
    "admin_last_admin_user": (
        "该用户是最后一位全局管理员，不能停用",
        "This user is the last admin at the top of the tree and cannot be switched off",
    ),
    "admin_unknown_unit": ("未知单位：{unit}", "Unknown org unit: {unit}"),
    "admin_unknown_role": ("未知角色：{role}", "Unknown role: {role}"),
    "admin_out_of_scope": (
        "该单位不在您的管理范围内",
        "This unit is outside your part of the tree",
    ),
    "admin_grant_exists": ("该用户已在此单位拥有该角色", "The user already holds this role here"),
    "admin_import_columns": (
        "第一行为表头：账号、姓名、单位（单位编号或名称）、角色（角色编号或名称）；"
        "多个单位或角色用“、”或“,”分隔。导入的账号没有密码，需由管理员重置后发放。",
        "The first row is the header: login, name, org (unit id or name), role (role id or name); "
        "separate several with 、 or a comma. Imported accounts have no password until an admin resets it.",
    ),
    "admin_import_missing_column": ("缺少此列", "This column is missing"),
    "admin_import_duplicate": ("账号与第 {row} 行重复", "Same login as row {row}"),
    "admin_import_ambiguous_unit": (
        "有多个单位名为“{unit}”，请填写单位编号",
        "Several units are named “{unit}”; give the unit id",
    ),
    "admin_import_taken": (
        "账号已被“{name}”使用",
        "This login belongs to “{name}”",
    ),
    "admin_import_empty": ("文件中没有数据行", "The file has no data rows"),
    "admin_import_summary": (
        "将新建 {new} 个账号，为 {old} 个已有账号补充授权，共 {grants} 项授权",
        "{new} new accounts, {old} existing accounts; {grants} grants in all",
    ),
    "admin_import_done": (
        "导入完成：新建 {created} 个账号，添加 {granted} 项授权，跳过 {skipped} 行",
        "Done: {created} accounts created, {granted} grants added, {skipped} rows skipped",
    ),
    "admin_import_new": ("新建", "new"),
    "admin_import_existing": ("已有账号", "existing"),
    "admin_table": ("对象", "Table"),
    "admin_table_yidi_user": ("用户账号", "User accounts"),
    "admin_table_yidi_grant": ("角色授权", "Role grants"),
    "admin_table_yidi_org_unit": ("组织机构", "Org units"),
    "admin_action": ("操作", "Action"),
    "admin_action_create": ("创建", "create"),
    "admin_action_update": ("修改", "update"),
    "admin_action_transition": ("流转", "transition"),
    "admin_action_delete": ("删除", "delete"),
    "admin_action_reset_password": ("重置密码", "password reset"),
    "admin_actor": ("操作人", "Actor"),
    "admin_record": ("记录编号", "Record id"),
    "admin_time": ("时间", "Time"),
    "admin_changes": ("变更内容", "Changes"),
    "admin_from": ("起始日期", "From"),
    "admin_to": ("截止日期", "To"),
    "admin_bad_date": ("日期格式应为 YYYY-MM-DD", "Use the date format YYYY-MM-DD"),
    "admin_bad_range": ("截止日期早于起始日期", "The end is before the start"),
    "admin_unknown_login": ("没有这个账号", "No such login"),
    "admin_unknown_value": ("无效的选项", "Not one of the choices"),
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
