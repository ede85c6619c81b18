"""``file``: an uploaded file (document, spreadsheet, archive…)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import ClassVar

from widgets._common import Samples
from widgets._media import MediaWidget, media_options
from widgets._media import descriptor_sample as _f
from widgets.base import register

ACCEPT = ("pdf", "doc", "docx", "xls", "xlsx", "ppt", "pptx", "txt", "zip", "jpg", "png")
KNOWN = None


@register
class FileWidget(MediaWidget):
    name = "file"
    label = "file"
    template = "_file.html"
    default_accept = ACCEPT
    known_extensions = KNOWN
    default_max_mb = 20
    noun_zh = "文件"
    noun_en = "file"
    a_noun_en = "a file"
    options: ClassVar[Mapping[str, str]] = media_options("file", ACCEPT, 20)

    samples: ClassVar[Samples] = {
        "good": [
            (
                _f("报告.pdf", 1000, "application/pdf"),
                {"type": "file"},
                _f("报告.pdf", 1000, "application/pdf"),
            ),
            (
                {"name": "C:\\docs\\议案.DOCX", "size": 2048, "content_type": "Application/Msword"},
                {"type": "file"},
                _f("议案.DOCX", 2048, "application/msword"),
            ),
            (
                {"name": "名单.pdf", "size": 10},
                {"type": "file"},
                _f("名单.pdf", 10, "application/pdf"),
            ),
            (
                [_f("a.zip", 1, "application/zip"), _f("b.txt", 2, "text/plain")],
                {"type": "file", "multiple": True},
                [_f("a.zip", 1, "application/zip"), _f("b.txt", 2, "text/plain")],
            ),
            (
                _f("data.csv", 5, "text/csv"),
                {"type": "file", "accept": ["csv"]},
                _f("data.csv", 5, "text/csv"),
            ),
        ],
        "bad": [
            ("报告.pdf", {"type": "file"}, "not_a_file"),
            (
                {"name": "a.pdf", "size": -1, "content_type": "application/pdf"},
                {"type": "file"},
                "not_a_file",
            ),
            (_f("run.exe", 10, "application/octet-stream"), {"type": "file"}, "bad_file_type"),
            (
                _f("big.pdf", 21 * 1024 * 1024, "application/pdf"),
                {"type": "file"},
                "file_too_large",
            ),
            (
                [_f("a.pdf", 1, "application/pdf"), _f("b.pdf", 1, "application/pdf")],
                {"type": "file"},
                "too_many_files",
            ),
            (
                [_f("a.pdf", 1, "application/pdf")] * 3,
                {"type": "file", "multiple": True, "max_files": 2},
                "too_many_files",
            ),
        ],
    }
