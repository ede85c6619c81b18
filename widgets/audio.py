"""``audio``: an uploaded sound recording."""

from __future__ import annotations

from collections.abc import Mapping
from typing import ClassVar

from widgets._common import Samples
from widgets._media import MediaWidget, media_options
from widgets._media import descriptor_sample as _f
from widgets.base import register

ACCEPT = ("mp3", "m4a", "aac", "wav", "amr", "ogg")
KNOWN = frozenset({"mp3", "m4a", "aac", "wav", "amr", "ogg", "oga", "opus", "flac", "wma", "webm"})


@register
class AudioWidget(MediaWidget):
    name = "audio"
    label = "audio"
    template = "_audio.html"
    default_accept = ACCEPT
    known_extensions = KNOWN
    default_max_mb = 20
    noun_zh = "音频"
    noun_en = "audio file"
    a_noun_en = "an audio file"
    options: ClassVar[Mapping[str, str]] = media_options("audio file", ACCEPT, 20)

    samples: ClassVar[Samples] = {
        "good": [
            (
                _f("录音.mp3", 1000, "audio/mpeg"),
                {"type": "audio"},
                _f("录音.mp3", 1000, "audio/mpeg"),
            ),
            (
                _f("语音.amr", 1000, "audio/amr"),
                {"type": "audio"},
                _f("语音.amr", 1000, "audio/amr"),
            ),
            (_f("a.m4a", 1.0, "audio/mp4"), {"type": "audio"}, _f("a.m4a", 1, "audio/mp4")),
        ],
        "bad": [
            (_f("录像.mp4", 1000, "video/mp4"), {"type": "audio"}, "bad_file_type"),
            (_f("长.wav", 21 * 1024 * 1024, "audio/wav"), {"type": "audio"}, "file_too_large"),
            (_f("a.mp3", 1, "not a type"), {"type": "audio"}, "not_a_file"),
            (123, {"type": "audio"}, "not_a_file"),
        ],
    }
