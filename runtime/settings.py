"""Settings of a running deployment, read from the environment.

``YIDI_MANIFEST``   the deployment manifest (default ``scenarios.yaml``)
``YIDI_DATA_DIR``   files, the SQLite database and the secret key (default ``./data``)
``DATABASE_URL``    ``sqlite:///…`` (default: ``<data dir>/yidi.sqlite3``) or ``postgres://…``
``YIDI_SECURE_COOKIES``  ``1`` behind HTTPS (cookies get the Secure flag)
``YIDI_UPLOAD_MB``  the largest upload in MB (default 100)
``YIDI_SCHEDULER_SECONDS``  how often the in-app scheduler fires due timers (default 30; 0 = off)

The secret that signs codes and CSRF tokens is generated into the data
directory on first start; no secret is ever kept in the repository.
"""

from __future__ import annotations

import os
import secrets
from dataclasses import dataclass, field
from pathlib import Path


@dataclass(frozen=True)
class Settings:
    manifest: Path
    data_dir: Path
    database_url: str
    secure_cookies: bool = False
    upload_mb: int = 100
    demo: bool = False  # seed the manifest's demo users and sample records
    scheduler_seconds: float = 30.0  # the timer loop's period; 0 turns the scheduler off
    secret: str = field(default="", repr=False)

    @classmethod
    def from_env(cls, env: dict[str, str] | None = None, **overrides: object) -> Settings:
        env = dict(os.environ if env is None else env)
        data_dir = Path(str(overrides.pop("data_dir", env.get("YIDI_DATA_DIR", "data")))).resolve()
        manifest = Path(
            str(overrides.pop("manifest", env.get("YIDI_MANIFEST", "scenarios.yaml")))
        ).resolve()
        url = str(
            overrides.pop(
                "database_url", env.get("DATABASE_URL") or f"sqlite://{data_dir / 'yidi.sqlite3'}"
            )
        )
        settings = cls(
            manifest=manifest,
            data_dir=data_dir,
            database_url=url,
            secure_cookies=env.get("YIDI_SECURE_COOKIES", "") in ("1", "true", "yes"),
            upload_mb=int(env.get("YIDI_UPLOAD_MB", "100")),
            scheduler_seconds=float(env.get("YIDI_SCHEDULER_SECONDS", "30")),
        )
        for key, value in overrides.items():
            object.__setattr__(settings, key, value)
        return settings

    def ensure_secret(self) -> str:
        """The deployment's secret, created on first use in the data directory."""
        if self.secret:
            return self.secret
        self.data_dir.mkdir(parents=True, exist_ok=True)
        path = self.data_dir / "secret.key"
        if not path.exists():
            path.write_text(secrets.token_hex(32), "utf-8")
            path.chmod(0o600)
        value = path.read_text("utf-8").strip()
        object.__setattr__(self, "secret", value)
        return value
