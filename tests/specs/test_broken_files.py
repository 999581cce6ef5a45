"""Each broken file gives exactly one precise `PATH:LINE:COL: message` line and exit 1."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from tests.specs.conftest import RUNBOOK, Validated

GAMEDAY = "kind: gameday\nname: g\nrunbook: runbooks/noop.yaml\n"
MONKEY = "kind: monkey\nname: m\nwindow: office\ntargets: {namespaces: [shop]}\n"
TERMINATE = (
    "method:\n  - type: action\n    name: act\n    provider:\n      type: python\n"
    "      module: chaosk8s.pod.actions\n      func: terminate_pods\n      arguments:\n"
)
PROTECTED = "is protected: gameday never changes it"
BOMB = 'a: &a ["x","x","x","x","x","x","x","x","x"]\n' + "".join(
    f"{n}: &{n} [{','.join([f'*{p}'] * 9)}]\n" for p, n in zip("abcdefgh", "bcdefghi", strict=True)
)

CASES: list[tuple[str, dict[str, str | bytes], str]] = [
    (
        "unknown-key-with-suggestion",
        {"schedules/g.yaml": GAMEDAY + "cron: '0 9 * * mon'\nwindw: office\n"},
        "schedules/g.yaml:5:1: unknown key 'windw' (did you mean 'window'?)",
    ),
    (
        "nested-unknown-key",
        {"schedules/m.yaml": "kind: monkey\nname: m\nwindow: office\ntargets: {namespace: [a]}\n"},
        "schedules/m.yaml:4:11: targets: unknown key 'namespace' (did you mean 'namespaces'?)",
    ),
    (
        "missing-required-key-points-at-mapping",
        {"schedules/g.yaml": "# a gameday\nkind: gameday\nname: g\ncron: '0 9 * * mon'\n"},
        "schedules/g.yaml:2:1: missing required key 'runbook'",
    ),
    (
        "missing-kind",
        {"schedules/x.yaml": "name: x\n"},
        "schedules/x.yaml:1:1: missing required key 'kind' (window, monkey, gameday or gates)",
    ),
    (
        "unknown-kind",
        {"schedules/x.yaml": "kind: windo\nname: x\n"},
        "schedules/x.yaml:1:7: kind: unknown kind 'windo' (did you mean 'window'?): "
        "expected window, monkey, gameday or gates",
    ),
    (
        "unknown-timezone",
        {"schedules/w.yaml": "kind: window\nname: w\ntimezone: Asia/Tokio\n"},
        "schedules/w.yaml:3:11: timezone: unknown timezone 'Asia/Tokio' "
        "(did you mean 'Asia/Tokyo'?): expected an IANA name",
    ),
    (
        "timezone-path-traversal",
        {"schedules/w.yaml": "kind: window\nname: w\ntimezone: ../../etc/passwd\n"},
        "schedules/w.yaml:3:11: timezone: unknown timezone '../../etc/passwd': "
        "expected an IANA name",
    ),
    (
        "cron-hour-25",
        {"schedules/g.yaml": GAMEDAY + "cron: '0 25 * * *'\n"},
        "schedules/g.yaml:4:7: cron: invalid cron '0 25 * * *': Error validating expression "
        "'25': the last value (25) is higher than the maximum value (23)",
    ),
    (
        "cron-minute-61",
        {"schedules/g.yaml": GAMEDAY + "cron: '61 * * * *'\n"},
        "schedules/g.yaml:4:7: cron: invalid cron '61 * * * *': Error validating expression "
        "'61': the last value (61) is higher than the maximum value (59)",
    ),
    (
        "cron-six-fields",
        {"schedules/g.yaml": GAMEDAY + "cron: '0 0 9 * * mon'\n"},
        "schedules/g.yaml:4:7: cron: invalid cron '0 0 9 * * mon': expected 5 fields "
        "(minute hour day month weekday), got 6",
    ),
    (
        "cron-numeric-weekday",
        {"schedules/g.yaml": GAMEDAY + "cron: '0 9 * * 1-5'\n"},
        "schedules/g.yaml:4:7: cron: invalid cron '0 9 * * 1-5': write the weekday field "
        "with names (mon..sun), numbers are ambiguous between cron dialects",
    ),
    (
        "cron-and-at",
        {"schedules/g.yaml": GAMEDAY + "cron: '0 9 * * mon'\nat: 2026-12-02T14:00\n"},
        "schedules/g.yaml:1:1: a gameday needs exactly one of cron or at (it has both)",
    ),
    (
        "neither-cron-nor-at",
        {"schedules/g.yaml": GAMEDAY},
        "schedules/g.yaml:1:1: a gameday needs exactly one of cron or at (it has neither)",
    ),
    (
        "at-garbled",
        {"schedules/g.yaml": GAMEDAY + "at: next tuesday\n"},
        "schedules/g.yaml:4:5: at: invalid time 'next tuesday': expected ISO 8601 such as "
        "2026-12-02T14:00 (seconds and an offset optional)",
    ),
    (
        "zero-duration",
        {"schedules/m.yaml": MONKEY + "mtbf: 0s\n"},
        "schedules/m.yaml:5:7: mtbf: invalid duration '0s': must be greater than zero",
    ),
    (
        "negative-duration",
        {"schedules/m.yaml": MONKEY + "heads_up: -10m\n"},
        "schedules/m.yaml:5:11: heads_up: invalid duration '-10m': expected NUMBER+UNIT "
        "such as 90s, 10m, 4h, 2d or 1h30m",
    ),
    (
        "garbled-duration-in-list",
        {"schedules/g.yaml": GAMEDAY + "cron: '0 9 * * mon'\nannounce: [1h, soon]\n"},
        "schedules/g.yaml:5:16: announce[1]: invalid duration 'soon': expected NUMBER+UNIT "
        "such as 90s, 10m, 4h, 2d or 1h30m",
    ),
    (
        "hours-start-equals-end",
        {"schedules/w.yaml": "kind: window\nname: w\ntimezone: UTC\nhours: '10:00-10:00'\n"},
        "schedules/w.yaml:4:8: hours: invalid hours '10:00-10:00': start equals end; "
        "leave hours out for the whole day",
    ),
    (
        "hours-malformed",
        {"schedules/w.yaml": "kind: window\nname: w\ntimezone: UTC\nhours: 9-17\n"},
        "schedules/w.yaml:4:8: hours: invalid hours '9-17': expected HH:MM-HH:MM "
        "such as 10:00-16:00",
    ),
    (
        "hours-out-of-range",
        {"schedules/w.yaml": "kind: window\nname: w\ntimezone: UTC\nhours: '10:00-24:30'\n"},
        "schedules/w.yaml:4:8: hours: invalid hours '10:00-24:30': times run from 00:00 to 23:59",
    ),
    (
        "unknown-weekday",
        {"schedules/w.yaml": "kind: window\nname: w\ntimezone: UTC\nweekdays: [mon, thr]\n"},
        "schedules/w.yaml:4:17: weekdays[1]: unknown weekday 'thr': expected one of "
        "mon, tue, wed, thu, fri, sat, sun",
    ),
    (
        "blackout-ends-before-start",
        {
            "schedules/w.yaml": "kind: window\nname: w\ntimezone: UTC\nblackouts:\n"
            "  - 2026-12-24\n  - 2027-01-04..2026-12-24\n"
        },
        "schedules/w.yaml:6:5: blackouts[1]: invalid blackout '2027-01-04..2026-12-24': "
        "ends before it starts",
    ),
    (
        "unknown-holiday-country",
        {"schedules/w.yaml": "kind: window\nname: w\ntimezone: UTC\nholidays: XX\n"},
        "schedules/w.yaml:4:11: holidays: unknown holiday country 'XX': expected a code like JP",
    ),
    (
        "runbook-path-leaves-home",
        {"schedules/g.yaml": "kind: gameday\nname: g\nrunbook: ../x.yaml\ncron: '0 9 * * mon'\n"},
        "schedules/g.yaml:3:10: runbook: runbook path '../x.yaml' leaves the home folder",
    ),
    (
        "runbook-path-sneaks-out",
        {
            "schedules/g.yaml": "kind: gameday\nname: g\nrunbook: runbooks/../../x.yaml\n"
            "cron: '0 9 * * mon'\n"
        },
        "schedules/g.yaml:3:10: runbook: runbook path 'runbooks/../../x.yaml' leaves the "
        "home folder",
    ),
    (
        "runbook-path-absolute",
        {"schedules/g.yaml": "kind: gameday\nname: g\nrunbook: /etc/passwd\ncron: '0 9 * * mon'\n"},
        "schedules/g.yaml:3:10: runbook: runbook path '/etc/passwd' is absolute: give a path "
        "inside the home",
    ),
    (
        "runbook-missing",
        {
            "schedules/g.yaml": "kind: gameday\nname: g\nrunbook: runbooks/nop.yaml\n"
            "cron: '0 9 * * mon'\n"
        },
        "schedules/g.yaml:3:10: runbook: no runbook at 'runbooks/nop.yaml' "
        "(did you mean 'runbooks/noop.yaml'?)",
    ),
    (
        "window-missing",
        {"schedules/g.yaml": GAMEDAY + "cron: '0 9 * * mon'\nwindow: ofice\n"},
        "schedules/g.yaml:5:9: window: no window named 'ofice' (did you mean 'office'?)",
    ),
    (
        "monkey-without-window",
        {"schedules/m.yaml": "kind: monkey\nname: m\ntargets: {namespaces: [shop]}\n"},
        "schedules/m.yaml:1:1: missing required key 'window'",
    ),
    (
        "quorum-above-named-users",
        {
            "schedules/g.yaml": GAMEDAY + "cron: '0 9 * * mon'\napproval:\n"
            "  approvers: {users: [U01, U02]}\n  quorum: 3\n"
        },
        "schedules/g.yaml:7:11: approval: quorum 3 is larger than the 2 named approver(s)",
    ),
    (
        "max-kills-zero",
        {"schedules/m.yaml": MONKEY + "max_kills: 0\n"},
        "schedules/m.yaml:5:12: max_kills: input should be greater than or equal to 1",
    ),
    (
        "kill-mode-garbled",
        {"schedules/m.yaml": MONKEY + "kill_mode: some\n"},
        "schedules/m.yaml:5:12: kill_mode: invalid kill_mode 'some': expected one, all, "
        "fixed:N or percent:P",
    ),
    (
        "duplicate-key",
        {"schedules/w.yaml": "kind: window\nname: w\ntimezone: UTC\nname: v\n"},
        "schedules/w.yaml:4:1: duplicate key 'name' (first at line 2)",
    ),
    (
        "non-mapping-document",
        {"schedules/w.yaml": "- kind: window\n  name: w\n"},
        "schedules/w.yaml:1:1: expected a mapping (key: value lines), found a list",
    ),
    (
        "scalar-document",
        {"schedules/w.yaml": "---\njust words\n"},
        "schedules/w.yaml:2:1: expected a mapping (key: value lines), found the value 'just words'",
    ),
    (
        "yaml-syntax",
        {"schedules/w.yaml": "kind: window\nname: [w\n"},
        "schedules/w.yaml:3:1: invalid YAML: while parsing a flow sequence expected ',' or "
        "']', but got '<stream end>'",
    ),
    (
        "python-tag-refused",
        {"schedules/w.yaml": "kind: !!python/object/apply:os.system ['true']\n"},
        "schedules/w.yaml:1:7: unsupported tag 'tag:yaml.org,2002:python/object/apply:os.system'",
    ),
    (
        "alias-bomb",
        {"schedules/b.yaml": BOMB},
        "schedules/b.yaml:6:4: document too large once aliases are expanded (over 100000)",
    ),
    (
        "too-many-aliases",
        {"schedules/b.yaml": "a: &a 1\nb: [" + ", ".join(["*a"] * 101) + "]\n"},
        "schedules/b.yaml:2:405: too many aliases (more than 100)",
    ),
    (
        "recursive-alias",
        {"schedules/b.yaml": "a: &a [*a]\n"},
        "schedules/b.yaml:1:4: recursive alias: a node contains itself",
    ),
    (
        "impossible-date",
        {"schedules/w.yaml": "kind: window\nname: w\ntimezone: UTC\nblackouts: [2026-02-30]\n"},
        "schedules/w.yaml:4:13: cannot read the value '2026-02-30': day is out of range for month",
    ),
    (
        "number-too-long",
        {"schedules/m.yaml": MONKEY + "max_kills: " + "9" * 5000 + "\n"},
        "schedules/m.yaml:5:12: cannot read the value '9999999999999999999999999999999999999...': "
        "too many digits",
    ),
    (
        "merge-key",
        {"schedules/w.yaml": "base: &b {timezone: UTC}\n---\nkind: window\nname: w\n<<: *b\n"},
        "schedules/w.yaml:1:1: missing required key 'kind' (window, monkey, gameday or gates)",
    ),
    (
        "file-too-large",
        {"schedules/big.yaml": "# " + "x" * (1024 * 1024) + "\n"},
        "schedules/big.yaml:1:1: file is larger than the 1 MiB limit (1048579 bytes)",
    ),
    (
        "not-utf8",
        {"schedules/w.yaml": b"kind: window\nname: \xff\xfe\n"},
        "schedules/w.yaml:1:1: not UTF-8 text (byte 20)",
    ),
    (
        "duplicate-schedule-name",
        {
            "schedules/a.yaml": MONKEY,
            "schedules/b.yaml": MONKEY.replace("kind: monkey", "kind: monkey"),
        },
        "schedules/b.yaml:2:7: name: duplicate schedule name 'm' (first at schedules/a.yaml:2:7)",
    ),
    (
        "runbook-chaoslib-rule",
        {"runbooks/r.yaml": "title: T\nmethod: []\n"},
        "runbooks/r.yaml:1:1: experiment requires a description",
    ),
    (
        "runbook-unknown-python-module",
        {
            "runbooks/r.yaml": RUNBOOK.replace(
                "method: []",
                "method:\n  - type: action\n"
                "    name: act\n    provider:\n      type: python\n"
                "      module: chaosk8s.pod.actionz\n      func: terminate_pods\n",
            )
        },
        "runbooks/r.yaml:17:15: method[0]: could not find Python module 'chaosk8s.pod.actionz' "
        "in activity 'act'",
    ),
    (
        "runbook-wrong-argument",
        {
            "runbooks/r.yaml": RUNBOOK.replace(
                "method: []",
                "method:\n  - type: action\n"
                "    name: act\n    provider:\n      type: python\n"
                "      module: chaosk8s.pod.actions\n      func: terminate_pods\n"
                "      arguments:\n        namespace: shop\n",
            )
        },
        "runbooks/r.yaml:20:9: method[0]: argument 'namespace' is not part of the function "
        "signature in activity 'terminate_pods'",
    ),
    (
        "runbook-extension-unknown-key",
        {"runbooks/r.yaml": RUNBOOK + "extensions:\n  - name: gameday\n    timout: 10m\n"},
        "runbooks/r.yaml:15:5: extensions[0]: unknown key 'timout' (did you mean 'timeout'?)",
    ),
    (
        "runbook-hypothesis-without-title",
        {"runbooks/r.yaml": RUNBOOK.replace("  title: Always fine\n", "")},
        "runbooks/r.yaml:3:1: hypothesis requires a title",
    ),
    (
        "runbook-two-gameday-extensions",
        {
            "runbooks/r.yaml": RUNBOOK + "extensions:\n  - name: gameday\n"
            "  - name: gameday\n    timeout: 1h\n"
        },
        "runbooks/r.yaml:15:5: a second gameday extension (keep one)",
    ),
    (
        "runbook-name-with-space",
        {"runbooks/my runbook.yaml": RUNBOOK},
        "runbooks/my runbook.yaml:1:1: runbook name 'my runbook' (the file name) must use "
        "letters, digits, '.', '_' and '-' only",
    ),
    (
        "json-runbook-extension",
        {
            "runbooks/j.json": '{"title": "T", "description": "D", "method": [],\n'
            ' "extensions": [{"name": "gameday",\n   "timeout": "0m"}]}\n'
        },
        "runbooks/j.json:3:15: extensions[0].timeout: invalid duration '0m': "
        "must be greater than zero",
    ),
    (
        "json-runbook-syntax",
        {"runbooks/j.json": '{"title": "T",\n\t"description": }\n'},
        "runbooks/j.json:2:17: invalid JSON: Expecting value",
    ),
    (
        "runbook-two-documents",
        {"runbooks/r.yaml": RUNBOOK + "---\ntitle: again\n"},
        "runbooks/r.yaml:14:1: a runbook holds one experiment, found several documents",
    ),
    (
        "gameday-on-broken-runbook",
        {"runbooks/noop.yaml": "title: T\n", "schedules/g.yaml": GAMEDAY + "cron: '0 9 * * mon'\n"},
        "runbooks/noop.yaml:1:1: experiment requires a description",
    ),
    (
        "runbook-protected-namespace-argument",
        {
            "runbooks/r.yaml": RUNBOOK.replace(
                "method: []\n", TERMINATE + "        ns: kube-system\n"
            )
        },
        "runbooks/r.yaml:20:13: method[0].provider.arguments.ns: namespace 'kube-system' "
        f"{PROTECTED}",
    ),
    (
        "runbook-protected-namespace-from-configuration",
        {
            "runbooks/r.yaml": RUNBOOK.replace(
                "method: []\n", TERMINATE + "        ns: ${target}\n"
            )
            + "configuration:\n  target: kube-public\n"
        },
        "runbooks/r.yaml:20:13: method[0].provider.arguments.ns: namespace 'kube-public' "
        f"(from configuration via '${{target}}') {PROTECTED}",
    ),
    (
        "runbook-protected-namespace-in-process-probe",
        {
            "runbooks/r.yaml": RUNBOOK.replace(
                '        path: "true"\n',
                '        path: "true"\n        arguments: [get, pods, -n, kube-node-lease]\n',
            )
        },
        "runbooks/r.yaml:12:36: steady-state-hypothesis.probes[0].provider.arguments[3]: "
        f"namespace 'kube-node-lease' {PROTECTED}",
    ),
    (
        "runbook-protected-namespace-in-rollback-command",
        {
            "runbooks/r.yaml": RUNBOOK
            + "rollbacks:\n  - type: action\n    name: undo\n    provider:\n"
            '      type: process\n      path: "true"\n'
            "      arguments: delete pod web --namespace=kube-system && echo done\n"
        },
        "runbooks/r.yaml:19:18: rollbacks[0].provider.arguments: namespace 'kube-system' "
        f"{PROTECTED}",
    ),
    (
        "runbook-protected-namespace-in-control",
        {
            "runbooks/r.yaml": RUNBOOK
            + "controls:\n  - name: notes\n    provider:\n      type: python\n"
            "      module: chaosk8s.pod.actions\n"
            "      arguments:\n        namespaces: [shop, kube-system]\n"
        },
        "runbooks/r.yaml:19:28: controls[0].provider.arguments.namespaces[1]: "
        f"namespace 'kube-system' {PROTECTED}",
    ),
    (
        "json-runbook-protected-namespace",
        {
            "runbooks/j.json": '{"title": "T", "description": "D",\n "method": [{"type": "action",'
            ' "name": "act", "provider": {"type": "python",\n   "module": "chaosk8s.pod.actions",'
            ' "func": "terminate_pods",\n   "arguments": {"ns": "kube-system"}}}]}\n'
        },
        "runbooks/j.json:4:24: method[0].provider.arguments.ns: namespace 'kube-system' "
        f"{PROTECTED}",
    ),
    (
        "gate-unknown-check",
        {"schedules/m.yaml": MONKEY + "gates:\n  - name: g\n    grafana: {url: http://x}\n"},
        "schedules/m.yaml:6:5: gates[0]: unknown check 'grafana': "
        "expected one of prometheus, alertmanager, http",
    ),
    (
        "gate-two-checks",
        {
            "schedules/m.yaml": MONKEY + "gates:\n  - name: g\n    http: {url: http://x}\n"
            "    prometheus: {url: http://y, query: up, max: 1}\n"
        },
        "schedules/m.yaml:6:5: gates[0]: a gate needs exactly one check "
        "(prometheus, alertmanager, http); it has prometheus and http",
    ),
    (
        "gate-bad-url",
        {"schedules/m.yaml": MONKEY + "gates:\n  - name: g\n    http: {url: 'ftp://x'}\n"},
        "schedules/m.yaml:7:17: gates[0].http.url: invalid URL 'ftp://x': "
        "expected http://HOST[:PORT][/PATH] or https://",
    ),
    (
        "gate-credentials-in-url",
        {"schedules/m.yaml": MONKEY + "gates:\n  - name: g\n    http: {url: 'http://u:p@x'}\n"},
        "schedules/m.yaml:7:17: gates[0].http.url: URL x: credentials in a URL are refused; "
        "name an environment variable in auth.bearer_env instead",
    ),
    (
        "gate-bad-matcher",
        {
            "schedules/m.yaml": MONKEY + "gates:\n  - name: g\n"
            "    alertmanager: {url: http://am, matchers: ['severity=critical\"']}\n"
        },
        "schedules/m.yaml:7:46: gates[0].alertmanager.matchers: invalid matcher "
        '\'severity=critical"\': expected LABEL="VALUE" (or !=, =~, !~)',
    ),
    (
        "gate-secret-inline",
        {
            "schedules/m.yaml": MONKEY + "gates:\n  - name: g\n    http: {url: http://x}\n"
            "    auth: {token: abc}\n"
        },
        "schedules/m.yaml:8:11: gates[0].auth: auth.token: credentials are never written in "
        "a spec; name the environment variable that holds the token: bearer_env: NAME",
    ),
    (
        "gate-prometheus-without-bound",
        {
            "schedules/m.yaml": MONKEY
            + "gates:\n  - name: g\n    prometheus: {url: http://x, query: up}\n"
        },
        "schedules/m.yaml:7:17: gates[0].prometheus: a prometheus check needs max or min (or both)",
    ),
    (
        "gate-name-twice",
        {
            "schedules/m.yaml": MONKEY + "gates:\n  - name: g\n    http: {url: http://x}\n"
            "  - name: g\n    http: {url: http://y}\n"
        },
        "schedules/m.yaml:6:3: gates: gate name 'g' is used twice",
    ),
    (
        "gates-spec-not-default",
        {
            "schedules/d.yaml": "kind: gates\nname: other\ngates:\n  - name: g\n    http: {url: http://x}\n"
        },
        "schedules/d.yaml:2:7: name: a gates spec is named default (it applies to every run), "
        "not 'other'",
    ),
    (
        "gate-json-path",
        {
            "schedules/m.yaml": MONKEY + "gates:\n  - name: g\n"
            "    http: {url: http://x, json: {path: 'status', equals: UP}}\n"
        },
        "schedules/m.yaml:7:40: gates[0].http.json.path: invalid JSON path 'status': "
        "expected $.name or $[0] steps",
    ),
    (
        "gate-timeout-too-long",
        {
            "schedules/m.yaml": MONKEY
            + "gates:\n  - name: g\n    http: {url: http://x, timeout: 2m}\n"
        },
        "schedules/m.yaml:7:36: gates[0].http.timeout: timeout is at most 60s",
    ),
    (
        "runbook-extension-gate-interval",
        {
            "runbooks/r.yaml": RUNBOOK + "extensions:\n  - name: gameday\n    gates:\n"
            "      - name: g\n        http: {url: http://x}\n        interval: 0s\n"
        },
        "runbooks/r.yaml:18:19: extensions[0].gates[0].interval: invalid duration '0s': "
        "must be greater than zero",
    ),
]


@pytest.mark.parametrize(("files", "expected"), [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_broken_file_gives_its_line(
    make_home: Callable[[dict[str, str | bytes]], Path],
    validate: Callable[..., Validated],
    files: dict[str, str | bytes],
    expected: str,
) -> None:
    result = validate(make_home(files))
    assert result.exception is None
    assert result.exit_code == 1
    assert result.lines[0] == expected


@pytest.mark.parametrize(
    ("files", "expected"),
    [
        (
            {"schedules/w.yaml": "kind: window\nname: w\ntimezone: Europe/Oslo\nholidays: NO\n"},
            "schedules/w.yaml:4:11: holidays: input should be a valid string (YAML read this as "
            "the bool False: quote it)",
        ),
        (
            {
                "schedules/m.yaml": "kind: monkey\nname: m\nwindow: office\n"
                "targets: {namespaces: [shop], selector: 'app in (a b)'}\n"
            },
            "schedules/m.yaml:4:41: targets.selector: invalid label selector 'app in (a b)': "
            "expected requirements such as app=web, app in (a, b), !canary, joined by commas",
        ),
        (
            {
                "schedules/m.yaml": "kind: monkey\nname: Bad_Name\nwindow: office\n"
                "targets: {namespaces: [shop]}\n"
            },
            "schedules/m.yaml:2:7: name: invalid name 'Bad_Name': use lowercase letters, digits "
            "and '-' (at most 63, starting and ending with a letter or digit)",
        ),
        (
            {"schedules/g.yaml": GAMEDAY + "at: 2026-12-02\n"},
            "schedules/g.yaml:4:5: at: 2026-12-02 is a date: give a time as well",
        ),
        (
            {"schedules/g.yaml": GAMEDAY + "at: 2026-12-02T14:00\nchannel: chaos\n"},
            "schedules/g.yaml:5:10: channel: invalid channel 'chaos': expected #name or a "
            "channel ID such as C0123",
        ),
        (
            {
                "schedules/g.yaml": GAMEDAY + "at: 2026-12-02T14:00\napproval:\n"
                "  approvers: {users: [alice]}\n"
            },
            "schedules/g.yaml:6:23: approval.approvers.users[0]: invalid Slack user ID 'alice': "
            "expected U… or W…",
        ),
        (
            {
                "schedules/g.yaml": "kind: gameday\nname: g\nrunbook: schedules/windows.yaml\n"
                "at: 2026-12-02T14:00\n"
            },
            "schedules/g.yaml:3:10: runbook: 'schedules/windows.yaml' is not in runbooks/",
        ),
        (
            {
                "schedules/w.yaml": "kind: window\nname: w\ntimezone: Asia/Tokyo\nholidays: JP\n"
                "subdivision: XX\n"
            },
            "schedules/w.yaml:1:1: unknown subdivision 'XX' of JP",
        ),
        (
            {"schedules/w.yaml": "kind: window\nname: w\ntimezone: UTC\nweekdays: []\n"},
            "schedules/w.yaml:4:11: weekdays: weekdays is empty: name at least one of mon..sun",
        ),
    ],
    ids=[
        "norway-problem",
        "selector",
        "name",
        "at-date-only",
        "channel",
        "slack-user",
        "runbook-outside-runbooks",
        "subdivision",
        "no-weekdays",
    ],
)
def test_more_broken_values(
    make_home: Callable[[dict[str, str | bytes]], Path],
    validate: Callable[..., Validated],
    files: dict[str, str | bytes],
    expected: str,
) -> None:
    result = validate(make_home(files))
    assert (result.exit_code, result.lines[:1]) == (1, [expected])
