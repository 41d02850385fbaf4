"""`servicepulse analyze IN.csv --text-column COL --output OUT.csv [--catalog FILE.yaml]`: the understanding
pipeline over a CSV file, for batch work and benchmarks. Every input column is written back, in order and
row for row, followed by complaint, complaint_score, sentiment, sentiment_score, spam, spam_score, services
(catalogue ids separated by ';', best first) and language. An input saved with a UTF-8 byte order mark (Excel's
"CSV UTF-8") gives an output with one, so Excel reads its Welsh, Chinese or Arabic back as written."""

from __future__ import annotations

import codecs
import csv
import io
import sys
from contextlib import nullcontext
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from servicepulse.core.output import complete_file

OUTPUT_COLUMNS = [
    "complaint",
    "complaint_score",
    "sentiment",
    "sentiment_score",
    "spam",
    "spam_score",
    "services",
    "language",
]
CHUNK = 512


class Command(BaseCommand):
    needs_migrated_database = False  # only without --catalog, and _database_catalog() says what to do
    help = (
        "Analyse the texts of a CSV file (complaint, sentiment, spam, services, language) into another CSV."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("input", help="CSV file with a header row")
        parser.add_argument("--text-column", required=True, help="the column holding the text")
        parser.add_argument("--output", required=True, help="CSV file to write ('-' for stdout)")
        parser.add_argument("--catalog", help="catalogue YAML file (default: the database's catalogue)")

    def handle(self, *args: Any, **options: Any) -> None:
        from servicepulse.analysis.ml.heads import ArtifactError
        from servicepulse.analysis.ml.pipeline import analyze_texts, get_heads
        from servicepulse.analysis.ml.tagging import CatalogTagger
        from servicepulse.catalog.document import CatalogError, catalog_read_file
        from servicepulse.core.progress import progress_bar

        source, out_path = Path(options["input"]), options["output"]
        if (
            out_path != "-"
            and source.exists()
            and Path(out_path).exists()
            and Path(out_path).samefile(source)
        ):
            # Run again on its own output, the file would get a second set of result columns of the same names.
            raise CommandError(f"--output {out_path} is the input file; write the results to another file")
        header, rows, bom = _read_csv(source, options["text_column"])
        if options["catalog"]:
            try:
                records = catalog_read_file(options["catalog"])
            except CatalogError as exc:
                raise CommandError(str(exc)) from exc
        else:
            records = _database_catalog()
        try:
            get_heads()
        except ArtifactError as exc:
            raise CommandError(str(exc)) from exc
        tagger = CatalogTagger(records)
        column = header.index(options["text_column"])
        with nullcontext(sys.stdout) if out_path == "-" else complete_file(Path(out_path), newline="") as out:
            if bom:
                out.write("\ufeff")
            writer = csv.writer(out, lineterminator="\n")
            writer.writerow(header + OUTPUT_COLUMNS)
            with progress_bar(total=len(rows), desc="analyze", unit="rows") as bar:
                for start in range(0, len(rows), CHUNK):
                    chunk = rows[start : start + CHUNK]
                    results = analyze_texts([r[column] for r in chunk], tagger, on_progress=bar.update)
                    for row, result in zip(chunk, results, strict=True):
                        writer.writerow(
                            [
                                *row,
                                int(result.complaint),
                                f"{result.complaint_score:.4f}",
                                result.sentiment,
                                f"{result.sentiment_score:.4f}",
                                int(result.spam),
                                f"{result.spam_score:.4f}",
                                ";".join(result.service_ids),
                                result.language,
                            ]
                        )


def _read_csv(path: Path, text_column: str) -> tuple[list[str], list[list[str]], bool]:
    """Header, rows and whether `path` starts with a byte order mark; a one-line CommandError for anything
    the command cannot use."""
    try:
        raw = path.read_bytes()
    except FileNotFoundError as exc:
        raise CommandError(f"input file not found: {path}") from exc
    except OSError as exc:
        raise CommandError(f"cannot read {path}: {exc.strerror}") from exc
    try:
        content = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = raw[: exc.start].count(b"\n") + 1
        raise CommandError(f"{path}: line {line}: not UTF-8 text (byte {raw[exc.start]:#04x})") from exc
    if not content.strip():
        raise CommandError(f"{path} is empty: expected a CSV header row with a {text_column!r} column")
    csv.field_size_limit(10_000_000)
    # newline="" leaves line breaks inside quoted fields, and characters such as U+2028 or a form feed that
    # str.splitlines() would split on, to the CSV reader. Strict: a quote never closed is an error, not the
    # rest of the file swallowed into one field.
    reader = csv.reader(io.StringIO(content, newline=""), strict=True)
    records: list[tuple[int, list[str]]] = []  # (line the record starts on, values)
    start = 1
    try:
        for row in reader:
            records.append((start, row))
            start = reader.line_num + 1
    except csv.Error as exc:
        if "unexpected end of data" in str(exc):
            raise CommandError(f"{path}: line {start}: a quoted field is never closed") from exc
        raise CommandError(f"{path}: line {reader.line_num}: malformed CSV ({exc})") from exc
    _, header = records[0]
    if text_column not in header:
        raise CommandError(f"{path} has no column {text_column!r} (columns: {', '.join(header)})")
    column = header.index(text_column)
    width = len(header)
    kept: list[list[str]] = []
    for line, row in records[1:]:
        if not row:  # a blank line is not a row
            continue
        if len(row) > width:
            raise CommandError(
                f"{path}: line {line} has {len(row)} values but the header has {width} columns"
            )
        if len(row) <= column:
            raise CommandError(f"{path}: line {line} has no value in column {text_column!r}")
        kept.append(row + [""] * (width - len(row)))
    return header, kept, raw.startswith(codecs.BOM_UTF8)


def _database_catalog() -> list[dict[str, Any]]:
    from django.db.utils import DatabaseError

    from servicepulse.catalog.selectors import catalog_as_records

    try:
        return catalog_as_records()
    except DatabaseError as exc:
        raise CommandError(
            f"cannot read the catalogue from the database ({exc.__class__.__name__}); run `servicepulse manage "
            "migrate` or pass --catalog FILE.yaml"
        ) from exc
