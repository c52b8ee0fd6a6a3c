"""Child for the crash trials: appends batches of rows to one series, printing each committed batch, and
never stops by itself, so the kill always lands while it is working (however fast the machine)."""

import itertools
import sys
from pathlib import Path

from core.settings import Settings
from pipelines.ingest import IngestOptions, ingest_series

home, workdir, rows = Path(sys.argv[1]), Path(sys.argv[2]), int(sys.argv[3])
settings = Settings.resolve(home)
for k in itertools.count():
    path = workdir / f"batch{k}.csv"
    start = k * rows
    path.write_text("t,v\n" + "".join(f"{i},{i * 0.5}\n" for i in range(start, start + rows)))
    ingest_series(settings, path, IngestOptions(name="s"))
    path.unlink()
    print(f"committed {k}", flush=True)
