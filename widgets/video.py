"""``video``: an uploaded video."""

from __future__ import annotations

from collections.abc import Mapping
from typing import ClassVar

from widgets._common import Samples
from widgets._media import MediaWidget, media_options
from widgets._media import descriptor_sample as _f
from widgets.base import register

ACCEPT = ("mp4", "mov", "webm", "3gp")
KNOWN = frozenset(
    {"mp4", "mov", "webm", "3gp", "m4v", "avi", "mkv", "flv", "wmv", "mpg", "mpeg", "ts"}
)


@register
class VideoWidget(MediaWidget):
    name = "video"
    label = "video"
    template = "_video.html"
    default_accept = ACCEPT
    known_extensions = KNOWN
    default_max_mb = 100
    noun_zh = "视频"
    noun_en = "video"
    a_noun_en = "a video"
    options: ClassVar[Mapping[str, str]] = media_options("video", ACCEPT, 100)

    samples: ClassVar[Samples] = {
        "good": [
            (
                _f("现场.mp4", 50 * 1024 * 1024, "video/mp4"),
                {"type": "video"},
                _f("现场.mp4", 50 * 1024 * 1024, "video/mp4"),
            ),
            (
                _f("a.MOV", 1, "video/quicktime"),
                {"type": "video"},
                _f("a.MOV", 1, "video/quicktime"),
            ),
            (
                [_f("a.webm", 1, "video/webm"), _f("b.3gp", 1, "video/3gpp")],
                {"type": "video", "multiple": True},
                [_f("a.webm", 1, "video/webm"), _f("b.3gp", 1, "video/3gpp")],
            ),
        ],
        "bad": [
            (_f("a.mp3", 1, "audio/mpeg"), {"type": "video"}, "bad_file_type"),
            (_f("a.mp4", 101 * 1024 * 1024, "video/mp4"), {"type": "video"}, "file_too_large"),
            ({"name": "a.mp4"}, {"type": "video"}, "not_a_file"),
            ("https://example.com/a.mp4", {"type": "video"}, "not_a_file"),
        ],
    }
