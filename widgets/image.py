"""``image``: an uploaded image."""

from __future__ import annotations

from collections.abc import Mapping
from typing import ClassVar

from widgets._common import Samples
from widgets._media import MediaWidget, media_options
from widgets._media import descriptor_sample as _f
from widgets.base import register

ACCEPT = ("jpg", "jpeg", "png", "gif", "webp")
KNOWN = frozenset(
    {"jpg", "jpeg", "png", "gif", "webp", "bmp", "heic", "heif", "tif", "tiff", "avif"}
)


@register
class ImageWidget(MediaWidget):
    name = "image"
    label = "image"
    template = "_image.html"
    default_accept = ACCEPT
    known_extensions = KNOWN
    default_max_mb = 10
    noun_zh = "图片"
    noun_en = "image"
    a_noun_en = "an image"
    options: ClassVar[Mapping[str, str]] = media_options("image", ACCEPT, 10)

    samples: ClassVar[Samples] = {
        "good": [
            (
                _f("现场.jpg", 500_000, "image/jpeg"),
                {"type": "image"},
                _f("现场.jpg", 500_000, "image/jpeg"),
            ),
            ([_f("现场.PNG", 1, "image/png")], {"type": "image"}, _f("现场.PNG", 1, "image/png")),
            (
                [_f("a.webp", 1, "image/webp")],
                {"type": "image", "multiple": True},
                [_f("a.webp", 1, "image/webp")],
            ),
            (
                _f("scan.heic", 1, "image/heic"),
                {"type": "image", "accept": ["heic"]},
                _f("scan.heic", 1, "image/heic"),
            ),
        ],
        "bad": [
            (_f("文档.pdf", 1, "application/pdf"), {"type": "image"}, "bad_file_type"),
            (_f("大图.png", 11 * 1024 * 1024, "image/png"), {"type": "image"}, "file_too_large"),
            (
                _f("大图.png", 3 * 1024 * 1024, "image/png"),
                {"type": "image", "max_size": 2},
                "file_too_large",
            ),
            ({"name": "", "size": 1}, {"type": "image"}, "not_a_file"),
            ({"name": "a.png", "size": True}, {"type": "image"}, "not_a_file"),
        ],
    }
