"""`servicepulse catalog load FILE.yaml` creates and updates services (never removes one) and `catalog export`
writes a file that loads back to the same catalogue; a bad file is one line and a non-zero exit."""

from __future__ import annotations

import json
from io import StringIO
from pathlib import Path

import pytest
import yaml
from django.core.management import CommandError, call_command

from servicepulse.catalog.models import Service
from tests.factories import ServiceFactory

pytestmark = pytest.mark.django_db

BENCH_CATALOG = Path(__file__).resolve().parents[2] / "bench" / "airline_catalog.yaml"


def run(*args: str) -> str:
    out = StringIO()
    call_command("catalog", *args, stdout=out)
    return out.getvalue()


def test_load_creates_and_updates_and_keeps_services_not_in_the_file(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    ServiceFactory(id="late-flight", name="Old name")
    ServiceFactory(id="printing", name="Printing")  # not in the file: kept

    counts = json.loads(run("load", str(BENCH_CATALOG)))

    in_file = [s["id"] for s in yaml.safe_load(BENCH_CATALOG.read_text())["services"]]
    assert counts == {"created": len(in_file) - 1, "updated": 1, "kept": 1}
    # New services beside one the file does not name: perhaps a renamed id, so it is said.
    assert "kept 1 services not in the file: printing" in capsys.readouterr().err
    assert set(Service.objects.values_list("id", flat=True)) == {*in_file, "printing"}
    assert Service.objects.get(id="late-flight").name == "Late flight"
    assert "delayed" in Service.objects.get(id="late-flight").aliases

    # Loading it again changes nothing.
    assert json.loads(run("load", str(BENCH_CATALOG))) == {"created": 0, "updated": len(in_file), "kept": 1}
    assert Service.objects.count() == len(in_file) + 1
    assert capsys.readouterr().err == ""  # nothing new: nothing to wonder about


def test_export_loads_back_to_the_same_catalogue(tmp_path: Path) -> None:
    run("load", str(BENCH_CATALOG))
    Service.objects.filter(id="bad-flight").update(team="Cabin", public=False)
    written = tmp_path / "catalogue.yaml"
    call_command("catalog", "export", "--output", str(written))
    on_stdout = run("export")
    assert written.read_text(encoding="utf-8") == on_stdout

    before = list(
        Service.objects.values("id", "name", "aliases", "description", "examples", "team", "public")
    )
    Service.objects.all().delete()
    run("load", str(written))
    after = list(Service.objects.values("id", "name", "aliases", "description", "examples", "team", "public"))
    assert after == before
    assert run("export") == on_stdout


def test_export_loads_back_awkward_text_exactly(tmp_path: Path) -> None:
    """Unicode, quotes, YAML look-alikes and several-line descriptions come back as they were written, Unicode
    line breaks included (a NEL, byte 0x85 of Windows "…" read as Latin-1, came back as a space)."""
    awkward = [
        "Line one\nline two\n\n  indented\ttab",
        "quotes ' \" and \\ backslash: colon # hash",
        "Ünïcödé — \u2018smart\u2019 quotes 🎉",
        "yes",
        "null",
        "- dash",
        "crlf\r\nfrom a textarea",
        "mis-decoded ellipsis\x85and line\u2028paragraph\u2029separators",
    ]
    for index, text in enumerate(awkward):
        ServiceFactory(
            id=f"s{index}",
            name=f"Service {index} {text.splitlines()[0]}",
            aliases=[text],
            description=text,
            examples=[text, "plain"],
            team=text.splitlines()[0],
            order=index,
        )
    fields = ("id", "name", "aliases", "description", "examples", "team", "public")
    before = list(Service.objects.order_by("order").values(*fields))
    written = tmp_path / "catalogue.yaml"
    call_command("catalog", "export", "--output", str(written))
    Service.objects.all().delete()
    run("load", str(written))
    assert list(Service.objects.order_by("order").values(*fields)) == before


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("services: [ {name: 'x'", "not valid YAML"),
        ("- just a list\n", "a mapping with a 'services' list"),
        ("services:\n  - id: Not A Slug\n    name: X\n", "must be a slug"),
        (b"\xff\xfe services", "not UTF-8"),
        # A misspelt key used to load the service without what it held ("created": 1, aliases gone).
        (
            "services:\n  - id: parking\n    name: Parking\n    alias: [car park, paybyphone]\n",
            r"service #1 \(parking\): unknown key 'alias'; an entry may have id, name, aliases,",
        ),
        # A later entry's mistake loads none of the file, the good entries before it included.
        ("services:\n  - {id: vpn, name: VPN}\n  - {id: vpn, name: Remote access}\n", "duplicate id 'vpn'"),
        (
            "services:\n  - {id: vpn, name: VPN}\n  - {id: wifi, name: Wi-Fi, aliases: [eduroam, 5]}\n",
            r"service #2 \(wifi\): 'aliases' must be a list of strings",
        ),
        # Longer than the database column: PostgreSQL failed the load with a DataError traceback and SQLite
        # stored the value uncut.
        (
            f"services:\n  - {{id: vpn, name: VPN}}\n  - {{id: {'a' * 65}, name: X}}\n",
            "service #2: 'id' is 65 characters long; it may have at most 64",
        ),
        (
            f"services:\n  - {{id: vpn, name: '{'N' * 201}'}}\n",
            r"service #1 \(vpn\): 'name' is 201 characters long; it may have at most 200",
        ),
        (
            f"services:\n  - {{id: vpn, name: VPN, team: '{'T' * 201}'}}\n",
            r"service #1 \(vpn\): 'team' is 201 characters long; it may have at most 200",
        ),
    ],
)
def test_a_bad_file_is_one_line_and_loads_nothing(tmp_path: Path, content: str | bytes, message: str) -> None:
    path = tmp_path / "catalogue.yaml"
    if isinstance(content, bytes):
        path.write_bytes(content)
    else:
        path.write_text(content, encoding="utf-8")
    with pytest.raises(CommandError, match=message) as error:
        run("load", str(path))
    assert "\n" not in str(error.value)
    assert not Service.objects.exists()
    with pytest.raises(CommandError, match="catalogue file not found"):
        run("load", str(tmp_path / "missing.yaml"))


@pytest.mark.django_db(transaction=True)
def test_console_command(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from servicepulse.cli import main

    main(["catalog", "load", str(BENCH_CATALOG)])
    assert json.loads(capsys.readouterr().out)["created"] == Service.objects.count() > 0
    with pytest.raises(SystemExit) as exit_info:
        main(["catalog", "load", str(tmp_path / "missing.yaml")])
    assert exit_info.value.code == 1
    assert capsys.readouterr().err.strip().splitlines() == [
        f"CommandError: catalogue file not found: {tmp_path}/missing.yaml"
    ]


def test_a_partial_file_adds_its_new_services_at_the_end_and_moves_none(tmp_path: Path) -> None:
    run("load", str(BENCH_CATALOG))
    before = [s["id"] for s in yaml.safe_load(run("export"))["services"]]
    partial = tmp_path / "partial.yaml"
    partial.write_text(
        "services:\n"
        "  - id: parking\n    name: Parking\n    aliases: [car park]\n"
        f"  - id: {before[-1]}\n    name: Renamed\n"  # updated, not moved to the front
        "  - id: accessibility\n    name: Accessibility\n",
        encoding="utf-8",
    )

    assert json.loads(run("load", str(partial))) == {"created": 2, "updated": 1, "kept": len(before) - 1}

    assert [s["id"] for s in yaml.safe_load(run("export"))["services"]] == [
        *before,
        "parking",
        "accessibility",
    ]
    assert Service.objects.get(id=before[-1]).name == "Renamed"

    # A file naming every service still sets the order.
    whole = yaml.safe_load(run("export"))
    whole["services"].reverse()
    partial.write_text(yaml.safe_dump(whole), encoding="utf-8")
    run("load", str(partial))
    assert [s["id"] for s in yaml.safe_load(run("export"))["services"]] == [
        s["id"] for s in whole["services"]
    ]
