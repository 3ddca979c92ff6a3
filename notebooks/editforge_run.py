"""Reads a finished editforge run for the notebooks in this folder; never recomputes anything.

Tables come as pandas DataFrames:
  * through pyarrow, straight from the run's Parquet, when pyarrow is installed;
  * otherwise (Debian ships no pyarrow) from JSON lines written by `bin/editforge export`. All the
    tables a notebook asks for are exported by ONE invocation (a JVM and Spark start take tens of
    seconds), into $EDITFORGE_EXPORTS_DIR or a cache directory per run; a file newer than its
    table's manifest is reused.
Manifests, rejects (JSON lines already), trainer_log.json and evaluation/summary.json are read
directly.

Environment: EDITFORGE_RUN_DIR (the run; default runs/demo), EDITFORGE_EXPORTS_DIR (where the
JSONL exports are or go), EDITFORGE_BIN (the launcher; default bin/editforge of this checkout).
"""

import hashlib
import json
import os
import subprocess
import tempfile
from pathlib import Path

import pandas as pd

REPO = Path(__file__).resolve().parent.parent

# Tables stored as several Parquet directories: the file name of the export -> (table, part).
PARTS = {
    "evaluation_articles": ("evaluation", "articles"),
    "evaluation_questions": ("evaluation", "questions"),
}

try:  # pragma: no cover - depends on the machine
    import pyarrow  # noqa: F401

    HAVE_PYARROW = True
except ImportError:
    HAVE_PYARROW = False


class Run:
    """One run directory. `tables("a", "b")` returns {"a": DataFrame, ...}, absent tables left out."""

    def __init__(self, path=None, exports=None):
        self.path = Path(path or os.environ.get("EDITFORGE_RUN_DIR") or REPO / "runs" / "demo")
        if not self.path.is_dir():
            raise FileNotFoundError(
                f"no run directory {self.path}: set EDITFORGE_RUN_DIR "
                "(`bin/editforge demo` writes runs/demo)"
            )
        default = Path(tempfile.gettempdir()) / "editforge-exports" / hashlib.sha1(
            str(self.path.resolve()).encode()
        ).hexdigest()[:12]
        self.exports = Path(exports or os.environ.get("EDITFORGE_EXPORTS_DIR") or default)

    # ---- files read as they are ----

    def manifest(self, table):
        """The table's _manifest.json as a dict, or None."""
        f = self.path / table / "_manifest.json"
        return json.loads(f.read_text()) if f.is_file() else None

    def has(self, table):
        m = self.manifest(table)
        return m is not None and m.get("status") in ("completed", "skipped")

    def manifests(self):
        """Every table's manifest, one row each: stage, status, counts."""
        rows = []
        for f in sorted(self.path.glob("*/_manifest.json")):
            m = json.loads(f.read_text())
            row = {"table": f.parent.name, "stage": m.get("stage"), "status": m.get("status")}
            row.update(m.get("counts", {}))
            row["started_at"] = m.get("started_at")
            row["ended_at"] = m.get("ended_at")
            rows.append(row)
        return pd.DataFrame(rows)

    def rejects(self, table):
        """The records the stage refused (reason, source_file, line, record)."""
        rows = []
        for f in sorted((self.path / table / "_rejects").glob("*.json")):
            rows.extend(_json_lines(f))
        return pd.DataFrame(rows, columns=["reason", "source_file", "line", "record"])

    def json(self, relative):
        """A JSON file of the run (e.g. finetune/trainer_log.json), or None."""
        f = self.path / relative
        return json.loads(f.read_text()) if f.is_file() else None

    # ---- tables ----

    def tables(self, *names):
        present = [n for n in names if self.has(PARTS.get(n, (n,))[0])]
        if HAVE_PYARROW:
            out = {}
            for n in present:
                table, *part = PARTS.get(n, (n,))
                out[n] = pd.read_parquet(self.path.joinpath(table, *part))
            return out
        stale = [n for n in present if not self._fresh(n)]
        if stale:
            self._export(sorted({PARTS.get(n, (n,))[0] for n in stale}))
        return {n: pd.DataFrame(_json_lines(self.exports / f"{n}.jsonl")) for n in present}

    def table(self, name):
        """One table, or None when the run has none."""
        return self.tables(name).get(name)

    def _fresh(self, name):
        f = self.exports / f"{name}.jsonl"
        m = self.path / PARTS.get(name, (name,))[0] / "_manifest.json"
        return f.is_file() and f.stat().st_mtime >= m.stat().st_mtime

    def _export(self, tables):
        launcher = os.environ.get("EDITFORGE_BIN") or str(REPO / "bin" / "editforge")
        self.exports.mkdir(parents=True, exist_ok=True)
        cmd = [launcher, "export", "--table", ",".join(tables), "--run-dir", str(self.path),
               "--out", str(self.exports)]
        print("no pyarrow: exporting", ", ".join(tables), "as JSON lines with", " ".join(cmd))
        subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL)


def _json_lines(path):
    # json.loads keeps ids as strings; pandas' read_json would turn "0123" into a number
    with open(path, encoding="utf-8") as f:
        return [json.loads(line) for line in f if line.strip()]
