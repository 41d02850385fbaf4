"""`servicepulse analyze`: input columns kept in order row for row plus the analysis columns; bad input gets
a one-line error and a non-zero exit."""

from __future__ import annotations

import csv
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml
from django.core.management import CommandError, call_command

from servicepulse.analysis.management.commands.analyze import OUTPUT_COLUMNS


def _write(path: Path, rows: list[list[str]]) -> Path:
    with path.open("w", newline="", encoding="utf-8") as fh:
        csv.writer(fh).writerows(rows)
    return path


def _catalog_file(tmp_path: Path, catalog: list[dict[str, Any]]) -> Path:
    path = tmp_path / "catalog.yaml"
    path.write_text(yaml.safe_dump({"services": catalog}))
    return path


def test_analyze_writes_input_columns_then_results(
    tmp_path: Path, encoder: Any, catalog: list[dict[str, Any]]
) -> None:
    src = _write(
        tmp_path / "in.csv",
        [
            ["id", "body", "extra"],
            ["1", "moodle crashed during my quiz and I lost all my answers, furious", "a"],
            ["2", "", "b"],
            ["3", "thanks for fixing the printers so quickly, great job", "c,with comma"],
        ],
    )
    out = tmp_path / "out.csv"
    call_command(
        "analyze",
        str(src),
        "--text-column",
        "body",
        "--output",
        str(out),
        "--catalog",
        str(_catalog_file(tmp_path, catalog)),
    )
    rows = list(csv.reader(out.open(encoding="utf-8")))
    assert rows[0] == ["id", "body", "extra", *OUTPUT_COLUMNS]
    assert [r[:3] for r in rows[1:]] == [
        ["1", "moodle crashed during my quiz and I lost all my answers, furious", "a"],
        ["2", "", "b"],
        ["3", "thanks for fixing the printers so quickly, great job", "c,with comma"],
    ]
    first = dict(zip(rows[0], rows[1], strict=True))
    assert (
        first["complaint"] == "1"
        and first["sentiment"] == "negative"
        and first["services"].split(";")[0] == "vle"
    )
    assert first["spam"] in ("0", "1") and 0 <= float(first["spam_score"]) <= 1 and first["language"] == "en"
    third = dict(zip(rows[0], rows[3], strict=True))
    assert third["sentiment"] == "positive" and third["services"].startswith("printing")
    assert dict(zip(rows[0], rows[2], strict=True))["services"] == ""


def test_analyze_keeps_rows_whose_text_holds_unicode_line_separators(
    tmp_path: Path, encoder: Any, catalog: list[dict[str, Any]]
) -> None:
    """U+2028, form feed, NEL and the \\x1c-\\x1e separators are line breaks to str.splitlines(), not to CSV."""
    texts = [
        "hello\u2028world wifi broken",
        "form\x0cfeed moodle",
        "next\x85line printers jammed",
        "file\x1cgroup\x1drecord\x1eseparators eduroam",
        'quoted "multi\nline" moodle',
    ]
    src = tmp_path / "in.csv"
    with src.open("w", newline="", encoding="utf-8") as fh:
        csv.writer(fh, lineterminator="\n").writerows(
            [["id", "body", "extra"], *([str(i), text, f"x{i}"] for i, text in enumerate(texts))]
        )
    out = tmp_path / "out.csv"
    call_command(
        "analyze",
        str(src),
        "--text-column",
        "body",
        "--output",
        str(out),
        "--catalog",
        str(_catalog_file(tmp_path, catalog)),
    )
    with out.open(newline="", encoding="utf-8") as fh:
        rows = list(csv.reader(fh))
    assert [r[:3] for r in rows[1:]] == [[str(i), text, f"x{i}"] for i, text in enumerate(texts)]
    assert all(len(r) == 3 + len(OUTPUT_COLUMNS) for r in rows)


@pytest.mark.django_db
def test_analyze_uses_the_database_catalogue_by_default(tmp_path: Path, encoder: Any) -> None:
    from servicepulse.catalog.services import catalog_load
    from servicepulse.demo.catalog import DEMO_CATALOG

    catalog_load(data=DEMO_CATALOG)
    src = _write(tmp_path / "in.csv", [["text"], ["eduroam keeps dropping in the library"]])
    call_command("analyze", str(src), "--text-column", "text", "--output", str(tmp_path / "out.csv"))
    row = next(iter(csv.DictReader((tmp_path / "out.csv").open(encoding="utf-8"))))
    assert row["services"].split(";")[0] == "wifi"


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("", "is empty"),
        ("   \n", "is empty"),
        ("id,text\n1,hello\n", "has no column 'body' (columns: id, text)"),
        ("id,body\n1,fine\n2\n", "line 3 has no value in column 'body'"),
        ("id,body\n1,moodle down,EXTRA\n", "line 2 has 3 values but the header has 2 columns"),
        ('id,body\n1,"multi\nline",a,b\n', "line 2 has 4 values but the header has 2 columns"),
        ('id,body\n\n1,ok\n2,"moodle\ndown",x\n', "line 4 has 3 values but the header has 2 columns"),
        ('id,body\n1,"unterminated moodle\n2,ok\n', "line 2: a quoted field is never closed"),
        ('id,body\n1,ok\n2,"quoted"tail\n', "line 3: malformed CSV"),
    ],
)
def test_analyze_bad_input(tmp_path: Path, content: str, message: str, catalog: list[dict[str, Any]]) -> None:
    src = tmp_path / "in.csv"
    src.write_text(content)
    with pytest.raises(CommandError, match=message.replace("(", r"\(").replace(")", r"\)")):
        call_command(
            "analyze",
            str(src),
            "--text-column",
            "body",
            "--output",
            str(tmp_path / "o.csv"),
            "--catalog",
            str(_catalog_file(tmp_path, catalog)),
        )


def test_analyze_missing_and_undecodable_input(tmp_path: Path) -> None:
    with pytest.raises(CommandError, match="input file not found"):
        call_command(
            "analyze", str(tmp_path / "nope.csv"), "--text-column", "t", "--output", str(tmp_path / "o.csv")
        )
    (tmp_path / "latin.csv").write_bytes(b"t\ncaf\xe9\n")
    with pytest.raises(
        CommandError, match=r"line 2: not UTF-8 text \(byte 0xe9\)"
    ):  # the byte, not its offset
        call_command(
            "analyze", str(tmp_path / "latin.csv"), "--text-column", "t", "--output", str(tmp_path / "o.csv")
        )


def test_analyze_refuses_to_write_over_its_input(tmp_path: Path) -> None:
    src = _write(tmp_path / "posts.csv", [["t"], ["moodle is down"]])
    before = src.read_bytes()
    for output in (str(src), str(tmp_path / "." / "posts.csv")):
        with pytest.raises(CommandError, match="is the input file; write the results to another file"):
            call_command("analyze", str(src), "--text-column", "t", "--output", output)
    assert src.read_bytes() == before


@pytest.mark.parametrize(
    ("catalog_text", "message"),
    [
        ("services: [unclosed", r"not valid YAML: .* \(line 1, column 20\)"),
        ("- just a list\n", "a mapping with a 'services' list"),
        ("services: []\n", "the 'services' list is empty"),
        ("services:\n  - name: '!!!'\n", "none can be made of the name"),
        ("services:\n  - id: a\n    description: no name\n", "'name' must be a non-empty string"),
        ("services:\n  - {id: a, name: A}\n  - {id: a, name: B}\n", "duplicate id 'a'"),
        ("services:\n  - {id: a, name: A, aliases: [1, 2]}\n", "'aliases' must be a list of strings"),
        # Refused as `catalog load` refuses them (analyze's own reader took both).
        ("services:\n  - {id: a, name: A, alias: [x]}\n", "unknown key 'alias'"),
        ("services:\n  - {id: Wi.Fi, name: A}\n", "must be a slug"),
    ],
)
def test_analyze_malformed_catalogue(tmp_path: Path, catalog_text: str, message: str) -> None:
    src = _write(tmp_path / "in.csv", [["text"], ["hello"]])
    (tmp_path / "c.yaml").write_text(catalog_text)
    with pytest.raises(CommandError, match=message):
        call_command(
            "analyze",
            str(src),
            "--text-column",
            "text",
            "--output",
            str(tmp_path / "o.csv"),
            "--catalog",
            str(tmp_path / "c.yaml"),
        )
    with pytest.raises(CommandError, match="catalogue file not found"):
        call_command(
            "analyze",
            str(src),
            "--text-column",
            "text",
            "--output",
            str(tmp_path / "o.csv"),
            "--catalog",
            str(tmp_path / "none.yaml"),
        )


def test_analyze_catalogue_that_is_a_directory(tmp_path: Path) -> None:
    src = _write(tmp_path / "in.csv", [["text"], ["hello"]])
    with pytest.raises(CommandError, match=r"cannot read the catalogue .*: Is a directory"):
        call_command(
            "analyze", str(src), "--text-column", "text", "--output", "-", "--catalog", str(tmp_path)
        )


def test_cli_prints_one_line_and_exits_non_zero(tmp_path: Path) -> None:
    src = _write(tmp_path / "in.csv", [["id", "text"], ["1", "hi"]])
    cli = Path(sys.executable).parent / "servicepulse"
    proc = subprocess.run(
        [str(cli), "analyze", str(src), "--text-column", "body", "--output", str(tmp_path / "o.csv")],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert proc.returncode != 0
    lines = [line for line in proc.stderr.splitlines() if line.strip()]
    assert len(lines) == 1 and "has no column 'body'" in lines[0]
    assert not (tmp_path / "o.csv").exists()


def test_analyze_reads_a_catalogue_file_as_catalog_load_does(tmp_path: Path) -> None:
    """One catalogue file means the same services to `catalog load` and `analyze --catalog`: both read it
    with catalog_read_file (analyze had a reader of its own, which took misspelt keys and ids that `catalog
    load` refuses). A service without an id gets the slug of its name."""
    (tmp_path / "c.yaml").write_text(
        "services:\n  - name: Moodle VLE\n    aliases: [moodle]\n  - id: wifi\n    name: Wi-Fi and eduroam\n"
    )
    src = _write(tmp_path / "in.csv", [["text"], ["moodle is down again"], ["eduroam keeps dropping"]])
    call_command(
        "analyze",
        str(src),
        "--text-column",
        "text",
        "--output",
        str(tmp_path / "o.csv"),
        "--catalog",
        str(tmp_path / "c.yaml"),
    )
    rows = list(csv.DictReader((tmp_path / "o.csv").open(encoding="utf-8")))
    assert [row["services"].split(";")[0] for row in rows] == ["moodle-vle", "wifi"]


def test_analyze_rows_in_welsh_chinese_and_arabic_from_an_excel_file(
    tmp_path: Path, encoder: Any, catalog: list[dict[str, Any]]
) -> None:
    """A file saved by Excel as 'CSV UTF-8' (with a byte order mark): each row's language and the services
    its aliases name, in other scripts and spellings, and an output Excel reads back with its BOM."""
    services = [
        *catalog,
        {"id": "email", "name": "E-mail", "aliases": ["e-bost", "البريد الإلكتروني"]},
        {"id": "records", "name": "Student records", "aliases": ["教务系统"]},
    ]
    texts = [
        "Mae'r ebost i lawr eto ers y bore, dw i ddim yn gallu anfon dim byd",
        "教务系统又崩了，选课怎么办？",  # noqa: RUF001 - other scripts on purpose
        "لا أستطيع الدخول إلى البريد الإلكتروني منذ الصباح",
        "wifi down in the library again",
    ]
    src = tmp_path / "in.csv"
    with src.open("w", newline="", encoding="utf-8-sig") as fh:
        csv.writer(fh).writerows([["id", "text"], *([str(i), t] for i, t in enumerate(texts))])
    out = tmp_path / "out.csv"
    call_command(
        "analyze",
        str(src),
        "--text-column",
        "text",
        "--output",
        str(out),
        "--catalog",
        str(_catalog_file(tmp_path, services)),
    )
    raw = out.read_bytes()
    assert raw.startswith(b"\xef\xbb\xbfid,text,")  # one BOM, then the header
    rows = list(csv.DictReader(raw.decode("utf-8-sig").splitlines()))
    assert [r["text"] for r in rows] == texts
    assert [r["language"] for r in rows] == ["cy", "zh", "ar", "en"]
    assert [r["services"].split(";")[0] for r in rows] == ["email", "records", "email", "wifi"]


def test_analyze_output_has_no_bom_when_the_input_had_none(
    tmp_path: Path, catalog: list[dict[str, Any]]
) -> None:
    src = _write(tmp_path / "in.csv", [["text"], ["moodle is down"]])
    out = tmp_path / "out.csv"
    call_command(
        "analyze",
        str(src),
        "--text-column",
        "text",
        "--output",
        str(out),
        "--catalog",
        str(_catalog_file(tmp_path, catalog)),
    )
    assert out.read_bytes().startswith(b"text,complaint,")
