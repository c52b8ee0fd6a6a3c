"""Child for the save-crash trials: registers and promotes the same artifact over and over."""

import sys
from pathlib import Path

from core.settings import Settings
from db import registry
from db.engine import write_session

settings = Settings.resolve(Path(sys.argv[1]))
artifact = Path(sys.argv[2]).read_bytes()
for k in range(10_000):
    with write_session(settings) as session:
        version = registry.add_version(
            session,
            artifact=artifact,
            kind="forecaster",
            subject="s",
            architecture="gru",
            config={"k": k},
            metrics={},
            alias="challenger",
        )
        registry.promote(session, version)
        vid = version.id
    print(f"committed {vid}", flush=True)
