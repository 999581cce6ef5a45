"""`gameday validate`: all errors of all files in one run, warnings, JSON, PATH arguments."""

from __future__ import annotations

import json
import os
from collections.abc import Callable
from pathlib import Path

import pytest

from tests.specs.conftest import Validated
from tests.support import run_gameday

BROKEN = {
    "schedules/a.yaml": "kind: window\nname: w\ntimezone: Mars/Base\n---\n"
    "kind: monkey\nname: m\nwindow: w\ntargets: {namespaces: [shop]}\nmtbf: 0s\n",
    "schedules/b.yaml": "- not a mapping\n",
    "schedules/c.yaml": "kind: gameday\nname: g\nrunbook: ../outside.yaml\ncron: '0 9 * * mon'\n",
    "runbooks/r.yaml": "title: T\n",
}


def test_every_error_of_every_file_in_one_run(
    make_home: Callable[[dict[str, str | bytes]], Path],
) -> None:
    home = make_home(BROKEN)
    done = run_gameday("--home", str(home), "validate")
    assert done.returncode == 1
    assert done.stdout.splitlines() == [
        "runbooks/r.yaml:1:1: experiment requires a description",
        "schedules/a.yaml:3:11: timezone: unknown timezone 'Mars/Base': expected an IANA name",
        "schedules/a.yaml:9:7: mtbf: invalid duration '0s': must be greater than zero",
        "schedules/b.yaml:1:1: expected a mapping (key: value lines), found a list",
        "schedules/c.yaml:3:10: runbook: runbook path '../outside.yaml' leaves the home folder",
    ]
    assert "Traceback" not in done.stderr
    assert "5 error(s)" in done.stderr


def test_json_lists_errors_and_warnings(
    make_home: Callable[[dict[str, str | bytes]], Path], validate: Callable[..., Validated]
) -> None:
    home = make_home(
        {
            "schedules/m.yaml": "kind: monkey\nname: m\nwindow: office\n"
            "targets: {namespaces: [shop, kube-system]}\n",
            "schedules/n.yaml": "kind: monkey\nname: n\nwindow: office\n"
            "targets: {namespaces: [shop]}\nmax_kills: 0\n",
        }
    )
    result = validate(home, "--json")
    assert result.exit_code == 1
    assert json.loads(result.stdout) == [
        {
            "path": "schedules/m.yaml",
            "line": 4,
            "col": 30,
            "severity": "warning",
            "message": "targets.namespaces[1]: 'kube-system' is protected; "
            "its pods are never touched",
        },
        {
            "path": "schedules/n.yaml",
            "line": 5,
            "col": 12,
            "severity": "error",
            "message": "max_kills: input should be greater than or equal to 1",
        },
    ]


def test_protected_namespace_is_a_warning_not_an_error(
    make_home: Callable[[dict[str, str | bytes]], Path], validate: Callable[..., Validated]
) -> None:
    home = make_home(
        {
            "schedules/m.yaml": "kind: monkey\nname: m\nwindow: office\n"
            "targets:\n  namespaces: [kube-system]\n"
        }
    )
    result = validate(home)
    assert result.exit_code == 0
    assert result.lines == [
        "schedules/m.yaml:5:16: warning: targets.namespaces[0]: 'kube-system' is protected; "
        "its pods are never touched"
    ]


@pytest.mark.parametrize(
    "text",
    [
        "kind: window\nname: night\ntimezone: Europe/Berlin\nhours: '22:00-02:00'\n",
        "kind: window\nname: night\ntimezone: UTC\nhours: '10:00-00:00'\nweekdays: [sat, sun]\n",
        "kind: window\nname: night\ntimezone: Asia/Tokyo\nholidays: JP\n"
        "blackouts: [2026-12-31, '2027-01-01..2027-01-03']\n",
        "kind: window\nname: night\ntimezone: America/New_York\nholidays: US\nsubdivision: NY\n",
    ],
    ids=["crossing-midnight", "until-midnight", "blackouts", "subdivision"],
)
def test_valid_windows_pass(
    make_home: Callable[[dict[str, str | bytes]], Path],
    validate: Callable[..., Validated],
    text: str,
) -> None:
    result = validate(make_home({"schedules/night.yaml": text}))
    assert (result.exit_code, result.lines) == (0, [])


def test_paths_limit_the_report_to_those_files(
    make_home: Callable[[dict[str, str | bytes]], Path], validate: Callable[..., Validated]
) -> None:
    home = make_home(BROKEN)
    result = validate(home, str(home / "schedules" / "b.yaml"))
    assert result.exit_code == 1
    assert result.lines == [
        "schedules/b.yaml:1:1: expected a mapping (key: value lines), found a list"
    ]


def test_a_path_outside_the_home_is_checked_against_the_home(
    make_home: Callable[[dict[str, str | bytes]], Path],
    validate: Callable[..., Validated],
    tmp_path: Path,
) -> None:
    home = make_home({})
    outside = tmp_path / "elsewhere" / "new.yaml"
    outside.parent.mkdir()
    outside.write_text("kind: monkey\nname: m\nwindow: offfice\ntargets: {namespaces: [a]}\n")
    result = validate(home, str(outside))
    assert result.exit_code == 1
    assert result.lines == [
        f"{outside.as_posix()}:3:9: window: no window named 'offfice' (did you mean 'office'?)"
    ]


def test_a_missing_path_is_one_clear_error(
    make_home: Callable[[dict[str, str | bytes]], Path], tmp_path: Path
) -> None:
    home = make_home({})
    done = run_gameday("--home", str(home), "validate", "nope.yaml", cwd=tmp_path)
    assert done.returncode == 2
    assert done.stderr == f"gameday: error: no such file or folder: {home / 'nope.yaml'}\n"


def test_a_runbook_symlinked_out_of_the_home_is_refused(
    make_home: Callable[[dict[str, str | bytes]], Path],
    validate: Callable[..., Validated],
    tmp_path: Path,
) -> None:
    home = make_home(
        {
            "schedules/g.yaml": "kind: gameday\nname: g\nrunbook: runbooks/link.yaml\n"
            "at: 2026-12-02T14:00\n"
        }
    )
    secret = tmp_path / "secret.yaml"
    secret.write_text("title: outside\n")
    os.symlink(secret, home / "runbooks" / "link.yaml")
    result = validate(home)
    assert result.exit_code == 1
    assert result.lines == [
        "runbooks/link.yaml:1:1: symlink to a file outside the home folder",
        "schedules/g.yaml:3:10: runbook: 'runbooks/link.yaml' has errors (see its own lines)",
    ]


def test_a_reference_to_a_broken_window_says_so(
    make_home: Callable[[dict[str, str | bytes]], Path], validate: Callable[..., Validated]
) -> None:
    home = make_home(
        {
            "schedules/windows.yaml": "kind: window\nname: office\ntimezone: Nowhere\n",
            "schedules/m.yaml": "kind: monkey\nname: m\nwindow: office\n"
            "targets: {namespaces: [a]}\n",
        }
    )
    result = validate(home)
    assert (
        result.lines[0]
        == "schedules/m.yaml:3:9: window: window 'office' has errors (see its own lines)"
    )


def test_a_home_without_specs_is_an_error(tmp_path: Path) -> None:
    done = run_gameday("--home", str(tmp_path), "validate")
    assert done.returncode == 2
    assert done.stderr == (
        f"gameday: error: nothing to validate: {tmp_path} has no runbooks/ or schedules/ folder\n"
    )
