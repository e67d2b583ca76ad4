"""Writes a large synthetic input for the scale runs: JSONL or CSV records ``id, text``.

Deterministic (the same arguments give the same bytes), fast (about 120 MB/s here: lines are built
in batches and written in large blocks), and bounded in memory whatever the size. Give either
``--records N`` or ``--bytes B`` (the file ends at the first record at or past B bytes)::

    python bench/py/gen_records.py --records 2000000 --out in-2m.jsonl
    python bench/py/gen_records.py --bytes 10G --out in-10g.jsonl
    python bench/py/gen_records.py --records 100000 --format csv --out in.csv

Texts are 40 to 220 characters of words from a small vocabulary (a pool of 4,096 texts, picked
per record by a fixed stride), so the records look like short documents; every 997th CSV text
holds a quoted line break, to exercise the quoting.
"""

from __future__ import annotations

import argparse
import random
import sys

WORDS = (
    "the of and to in a is that for it as was with be by on not he this are or his from at which but have an they "
    "you were her all she there would their we him been has when who will more no if out so said what up its about "
    "into than them can only other new some could time these two may then do first any my now such like our over "
    "man me even most made after also did many before must through back years where much your way well down should "
    "because each just those people how too little state good very make world still own see men work long get here "
    "between both life being under never day same another know while last might us great old year off come since "
    "against go came right used take three"
).split()

BATCH = 10_000
POOL = 4096


def size(text: str) -> int:
    """Bytes from ``10G``, ``512M``, ``64k`` or a plain number."""
    units = {"k": 1 << 10, "m": 1 << 20, "g": 1 << 30}
    last = text[-1].lower()
    return int(float(text[:-1]) * units[last]) if last in units else int(text)


def text_of(rng: random.Random) -> str:
    """One record's text."""
    return " ".join(rng.choice(WORDS) for _ in range(rng.randint(8, 40)))


def records_of(fmt: str, pool: list[str], start: int, n: int) -> list[str]:
    """Records ``start .. start + n - 1``, each with its line end."""
    out = []
    for i in range(start, start + n):
        t = pool[(i * 2654435761) % POOL]
        if fmt == "jsonl":
            out.append(f'{{"id": "r{i:09d}", "text": "{t}"}}\n')
        elif i % 997 == 0:
            out.append(f'r{i:09d},"{t}\n{t}"\n')
        else:
            out.append(f"r{i:09d},{t}\n")
    return out


def main(argv: list[str] | None = None) -> int:
    """Writes the file; prints its record count and size."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--out", required=True)
    parser.add_argument("--format", choices=("jsonl", "csv"), default="jsonl")
    parser.add_argument("--records", type=int)
    parser.add_argument("--bytes", type=size)
    parser.add_argument("--seed", type=int, default=15)
    args = parser.parse_args(argv)
    if (args.records is None) == (args.bytes is None):
        parser.error("give exactly one of --records and --bytes")
    rng = random.Random(args.seed)
    pool = [text_of(rng) for _ in range(POOL)]
    written = 0
    records = 0
    with open(args.out, "w", encoding="utf-8", newline="") as f:
        if args.format == "csv":
            written += f.write("id,text\n")
        while (args.records is None or records < args.records) and (args.bytes is None or written < args.bytes):
            n = BATCH if args.records is None else min(BATCH, args.records - records)
            batch = records_of(args.format, pool, records, n)
            chunk = "".join(batch)
            if args.bytes is not None and written + len(chunk) > args.bytes:
                # The last batch only as far as the size asks: whole records, the first past it last.
                keep = []
                for record in batch:
                    keep.append(record)
                    written += len(record)
                    records += 1
                    if written >= args.bytes:
                        break
                f.write("".join(keep))
                break
            f.write(chunk)
            written += len(chunk)
            records += n
    print(f"{args.out}: {records} records, {written} bytes", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
