"""Writes the test corpus: the Pentateuch of the King James Version, one record per verse.

The text comes from Debian's ``bible-kjv-text`` package (read with the ``bible``
program of the ``bible-kjv`` package: ``apt-get install -y bible-kjv``). The output
is deterministic, so rerunning it leaves ``testdata/corpus/`` byte for byte as it was
(Parquet included: no timestamps, fixed writer options).

Usage::

    python testdata/tools/make_corpus.py [--out testdata/corpus]

Writes ``kjv_pentateuch.jsonl``, ``.csv`` and ``.parquet``, each with columns
``id`` (``"Genesis 1:1"``) and ``text``.
"""

from __future__ import annotations

import argparse
import csv
import io
import json
import re
import subprocess
from pathlib import Path

#: Genesis to Deuteronomy: 5,852 verses, enough for batching tests and benchmarks
#: while keeping the folder small.
VERSE_RANGE = "gen1:1-deu34:12"
EXPECTED_VERSES = 5852

_CHAPTER = re.compile(r"^(?P<book>\S.*\S) (?P<chapter>\d+)$")
_VERSE = re.compile(r"^\s+(?P<verse>\d+) (?P<text>.+)$")


def read_verses(verse_range: str = VERSE_RANGE) -> list[dict[str, str]]:
    """Verses as ``{id, text}`` records, in canonical order, read with ``bible -l0``."""
    # -l0: no line wrapping, one verse per line.
    output = subprocess.run(
        ["bible", "-l0", verse_range], check=True, capture_output=True, text=True
    ).stdout
    records: list[dict[str, str]] = []
    book, chapter = None, None
    for line in output.splitlines():
        if not line.strip():
            continue
        if (heading := _CHAPTER.match(line)) is not None:
            book, chapter = heading["book"], heading["chapter"]
        elif (verse := _VERSE.match(line)) is not None:
            if book is None:
                raise ValueError(f"verse before any chapter heading: {line!r}")
            records.append({"id": f"{book} {chapter}:{verse['verse']}", "text": verse["text"].strip()})
        else:
            raise ValueError(f"unexpected line from bible: {line!r}")
    return records


def write_jsonl(records: list[dict[str, str]], path: Path) -> None:
    """One JSON object per line, UTF-8, keys ``id`` then ``text``."""
    with path.open("w", encoding="utf-8", newline="\n") as out:
        for record in records:
            out.write(json.dumps(record, ensure_ascii=False) + "\n")


def write_csv(records: list[dict[str, str]], path: Path) -> None:
    """RFC 4180 CSV with a header row (``\\r\\n`` line ends, quoting as needed)."""
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=["id", "text"], lineterminator="\r\n")
    writer.writeheader()
    writer.writerows(records)
    path.write_text(buffer.getvalue(), encoding="utf-8", newline="")


def write_parquet(records: list[dict[str, str]], path: Path) -> None:
    """Parquet, zstd, one row group, no pandas metadata (so the bytes are reproducible)."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    table = pa.table(
        {"id": [r["id"] for r in records], "text": [r["text"] for r in records]},
        schema=pa.schema([("id", pa.string()), ("text", pa.string())]),
    )
    pq.write_table(table, path, compression="zstd", row_group_size=len(records))


def main(argv: list[str] | None = None) -> int:
    """Write the three files; returns the exit status."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    default_out = Path(__file__).resolve().parents[1] / "corpus"
    parser.add_argument("--out", type=Path, default=default_out)
    args = parser.parse_args(argv)
    records = read_verses()
    if len(records) != EXPECTED_VERSES:
        raise SystemExit(f"expected {EXPECTED_VERSES} verses, read {len(records)}")
    args.out.mkdir(parents=True, exist_ok=True)
    write_jsonl(records, args.out / "kjv_pentateuch.jsonl")
    write_csv(records, args.out / "kjv_pentateuch.csv")
    write_parquet(records, args.out / "kjv_pentateuch.parquet")
    print(f"wrote {len(records)} records to {args.out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
