"""Every CLI command, walked from the Typer app, given bad input: a clean message, never a traceback.

The walk finds the commands itself, so a new command is covered the day it is registered. Each one
is run with an unknown option, with a bad value in every argument, and with a bad value in each of
its options in turn. The answer must be one of the documented exit codes for bad input — 2 (invalid
input or usage) or 4 (unknown reference) — with a message on stderr that shows control characters
from the input as escapes, never raw.
"""

from __future__ import annotations

import pytest
import typer

from lotline.cli.main import app

# Hostile on several counts: a path into a directory that does not exist, CR/LF (header and log
# injection), an escape sequence (terminal injection), and no valid code, number, date or UUID.
BAD = "no-such-dir/BAD\r\nVALUE\x1b[2J"
BAD_INPUT_EXITS = {2, 4}

# Commands whose body would start a long-running process or build a database; they still get the
# unknown-option run, and their options are bad one at a time (each fails before any work).
NO_ARGUMENTS_ONLY_RUN = {"serve", "demo", "generate"}
# Options that would start work on a valid-looking default when given alone.
NEVER_ALONE = {("serve", "--host"), ("generate", "--database-url")}


def _walk(cmd, path):
    if hasattr(cmd, "commands"):
        for name, sub in sorted(cmd.commands.items()):
            yield from _walk(sub, (*path, name))
    else:
        yield path, cmd


COMMANDS = list(_walk(typer.main.get_command(app), ()))


def _ids(cases):
    return [" ".join(str(x) for x in case if x is not None) for case in cases]


def _arguments(cmd) -> list[str]:
    out = []
    for p in cmd.params:
        if p.param_type_name == "argument":
            out += [BAD] * (p.nargs if p.nargs and p.nargs > 0 else 1)
    return out


def _value_options(cmd):
    for p in cmd.params:
        if p.param_type_name == "option" and not p.is_flag and not p.count:
            yield p.opts[0]


def _assert_clean(r, argv):
    shown = " ".join(argv)
    assert "Traceback" not in r.err + r.out, f"{shown!r} printed a traceback:\n{r.err}"
    assert r.code in BAD_INPUT_EXITS, f"{shown!r} exited {r.code}:\nstdout: {r.out}\nstderr: {r.err}"
    assert r.err.strip(), f"{shown!r} exited {r.code} without a message"
    assert "\x1b[2J" not in r.err, f"{shown!r} echoed a terminal escape sequence"


def test_the_walk_finds_every_group_of_commands():
    names = {path[0] for path, _ in COMMANDS}
    assert {"item", "receive", "lot", "movement", "wo", "so", "recall", "trace", "kpi", "db"} <= names
    assert len(COMMANDS) > 60


@pytest.mark.parametrize("path", [p for p, _ in COMMANDS], ids=_ids([p for p, _ in COMMANDS]))
def test_every_command_refuses_an_unknown_option_with_a_usage_message(cli, path):
    r = cli(*path, "--no-such-option")
    _assert_clean(r, [*path, "--no-such-option"])
    assert r.code == 2 and "no-such-option" in r.err


ARGUMENT_CASES = [(path, None) for path, cmd in COMMANDS if _arguments(cmd) and " ".join(path) not in NO_ARGUMENTS_ONLY_RUN]
OPTION_CASES = [
    (path, opt)
    for path, cmd in COMMANDS
    for opt in _value_options(cmd)
    if (" ".join(path), opt) not in NEVER_ALONE
]


@pytest.mark.parametrize("path,option", ARGUMENT_CASES + OPTION_CASES, ids=_ids(ARGUMENT_CASES + OPTION_CASES))
def test_every_command_given_a_bad_value_answers_a_clean_message_and_a_bad_input_exit_code(
    cli, tmp_path, monkeypatch, path, option
):
    monkeypatch.chdir(tmp_path)  # nothing a command writes lands in the checkout
    cmd = dict(COMMANDS)[path]
    argv = [*path, *_arguments(cmd)]
    if option is not None:
        argv += [option, BAD]
    r = cli(*argv)
    _assert_clean(r, argv)
    assert list(tmp_path.iterdir()) == [], f"{' '.join(argv)!r} wrote files although it failed"


def test_a_path_that_cannot_be_written_is_bad_input_naming_it(cli, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    r = cli("kpi", "run", "--start", "2025-01-01", "--end", "2025-02-01", "--json")
    assert r.code == 0, r.err
    r = cli("kpi", "export", r.json()["id"], "--out", "no-such-dir/kpis.csv")
    assert r.code == 2 and "Traceback" not in r.err
    assert "no-such-dir/kpis.csv" in r.err and "No such file or directory" in r.err


def test_a_file_that_cannot_be_read_is_bad_input_naming_it(cli):
    r = cli("receive", "--input", "no-such-file.json")
    assert r.code == 2 and "no-such-file.json" in r.err and "Traceback" not in r.err


def test_rich_markup_in_the_input_is_shown_as_typed_not_interpreted(cli):
    r = cli("lot", "show", "[bold]L-1[/]")
    assert r.code == 4 and "[bold]L-1[/]" in r.err


def test_an_unknown_migration_target_is_named_and_nothing_changes(cli):
    before = cli("db", "current").out
    r = cli("db", "upgrade", "nonsense")
    assert r.code == 2 and "unknown revision 'nonsense'" in r.err
    assert cli("db", "current").out == before


@pytest.mark.parametrize("argv", [("lot", "list", "--status", "gone"), ("movement", "list", "--type", "gift"),
                                  ("recall", "list", "--status", "pending")])
def test_a_filter_on_a_value_that_cannot_exist_is_refused_not_an_empty_list(cli, argv):
    r = cli(*argv)
    assert r.code == 2 and repr(argv[-1]) in r.err and "one of:" in r.err
