"""Child for the crash trials: appends batches of rows to one series, printing each committed batch."""

import sys
from pathlib import Path

from db.settings import Settings
from jobs.ingest import IngestOptions, ingest_series

home, workdir, batches, rows = Path(sys.argv[1]), Path(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4])
settings = Settings.resolve(home)
for k in range(batches):
    path = workdir / f"batch{k}.csv"
    start = k * rows
    path.write_text("t,v\n" + "".join(f"{i},{i * 0.5}\n" for i in range(start, start + rows)))
    ingest_series(settings, path, IngestOptions(name="s"))
    print(f"committed {k}", flush=True)
