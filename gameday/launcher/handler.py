"""A launcher's child that becomes one `gameday` command: the command's arguments,
working folder, environment, import path, umask, program name and terminal (its stdin,
stdout and stderr, passed over the socket, encoded as the command's were), then
`gameday.cli.main` as a cold start would run it. (Resource limits and the scheduling
priority stay the launcher's.)

It is the run's supervisor, as the `gameday run` process is on a cold start, so it dies
with the command that asked for it: when the command's end of the socket closes (the
command was killed, or its terminal went), SIGIO tells this process and it exits at once,
its run's worker reads the end of its lifeline and interrupts the run with rollbacks, as
when a cold `gameday run` is killed. Ctrl-C reaches it from the command as SIGINT.
"""

from __future__ import annotations

import contextlib
import fcntl
import io
import locale
import os
import signal
import socket
import sys
import tempfile
import traceback
from collections.abc import Iterable, Mapping
from types import FrameType
from typing import Any, NoReturn

from gameday.launcher import protocol

# Exit code when the command's side is gone (the same as a process killed by SIGHUP).
CLIENT_GONE = 128 + signal.SIGHUP
REQUEST_TIMEOUT = 10.0


def handle(conn: socket.socket, *, close: Iterable[int]) -> NoReturn:
    """Serve one command on `conn` in this freshly forked process; never returns.

    Rules: nothing runs before the command's "go"; once this process is the command, an
    error ends it as an uncaught one ends a cold command (the traceback on its stderr,
    exit 1); whatever happens, this process leaves by os._exit, never back into the
    launcher's loop.
    """
    signal.signal(signal.SIGTERM, signal.SIG_DFL)  # the launcher's own ends the launcher
    code, became = 70, False
    try:
        for fd in close:
            os.close(fd)  # the launcher's listening socket and lock are not ours
        conn.settimeout(REQUEST_TIMEOUT)
        request, fds = protocol.receive(conn, max_fds=3)
        if request is None or len(fds) != 3:
            os._exit(0)
        protocol.send(conn, {"pid": os.getpid()})
        go, _ = protocol.receive(conn)
        if go is None or not go.get("go"):
            os._exit(0)  # the command gave up waiting and runs itself: nothing runs here
        conn.settimeout(None)
        _become(request, fds, conn)
        became = True
        code = _run_command()
    except KeyboardInterrupt:
        code = 130
    except BaseException:
        with contextlib.suppress(BaseException):
            if became:
                code = 1
                sys.excepthook(*sys.exc_info())
            else:
                traceback.print_exc()  # to the launcher's log
    finally:
        # A last Ctrl-C must not cut this short. Everything written reaches the terminal
        # before the command exits (and its shell prints the next prompt).
        signal.signal(signal.SIGINT, signal.SIG_IGN)
        for stream in (sys.stdout, sys.stderr):
            with contextlib.suppress(BaseException):
                stream.flush()
        with contextlib.suppress(BaseException):
            protocol.send(conn, {"exit": code})
        os._exit(code)


def _become(request: dict[str, Any], fds: list[int], conn: socket.socket) -> None:
    """Turn this process into the command of `request`."""
    for target, fd in enumerate(fds):
        if fd != target:
            os.dup2(fd, target)
            os.close(fd)
    for signum in (signal.SIGHUP, signal.SIGCHLD):
        signal.signal(signum, signal.SIG_DFL)
    signal.signal(signal.SIGINT, signal.default_int_handler)
    os.umask(int(request.get("umask", 0o022)))
    os.environ.clear()
    os.environ.update({str(k): str(v) for k, v in request["env"].items()})
    os.chdir(request["cwd"])
    sys.path[:] = [str(p) for p in request["path"]]
    sys.argv = [str(request["argv0"]), *(str(a) for a in request["argv"])]
    # click names the program from these, as `gameday` or `python -m gameday`.
    sys.modules["__main__"].__package__ = request.get("main_package")
    tempfile.tempdir = None  # found again from this environment
    with contextlib.suppress(locale.Error):
        locale.setlocale(locale.LC_CTYPE, "")
    _reopen_stdio(request.get("streams") or {})
    _die_with_client(conn)


def _reopen_stdio(streams: Mapping[str, Mapping[str, Any]]) -> None:
    """sys.stdin/stdout/stderr on the command's descriptors, encoded and buffered as the
    command's own were (its locale, UTF-8 mode and PYTHONIOENCODING decided them)."""
    for fd, name in ((0, "stdin"), (1, "stdout"), (2, "stderr")):
        like = streams.get(name) or {}
        raw = io.FileIO(fd, "r" if fd == 0 else "w", closefd=False)
        buffered = io.BufferedReader(raw) if fd == 0 else io.BufferedWriter(raw)
        stream = io.TextIOWrapper(
            buffered,
            encoding=str(like.get("encoding") or "utf-8"),
            errors=str(like.get("errors") or ("backslashreplace" if fd == 2 else "strict")),
            newline="\n" if fd == 0 else None,
            line_buffering=bool(like.get("line_buffering", fd == 2 or os.isatty(fd))),
            write_through=bool(like.get("write_through", False)),
        )
        setattr(sys, name, stream)
        setattr(sys, f"__{name}__", stream)


def _die_with_client(conn: socket.socket) -> None:
    """Exit when the command's end of `conn` closes; processes forked from here (the
    run's worker) neither hold `conn` nor hear of it."""
    fd = conn.fileno()
    owner = os.getpid()

    def check(_signum: int | None = None, _frame: FrameType | None = None) -> None:
        try:
            data = conn.recv(1, socket.MSG_PEEK | socket.MSG_DONTWAIT)
        except BlockingIOError:
            return
        except OSError:
            data = b""
        if not data:
            os._exit(CLIENT_GONE)

    def in_child() -> None:
        # Only in this process's own children: in theirs, the number is something else.
        if os.getppid() == owner:
            signal.signal(signal.SIGIO, signal.SIG_DFL)
            with contextlib.suppress(OSError):
                os.close(fd)

    signal.signal(signal.SIGIO, check)
    os.register_at_fork(after_in_child=in_child)
    fcntl.fcntl(fd, fcntl.F_SETOWN, owner)
    fcntl.fcntl(fd, fcntl.F_SETFL, fcntl.fcntl(fd, fcntl.F_GETFL) | os.O_ASYNC)
    check()  # it may have gone before SIGIO was asked for


def _run_command() -> int:
    from gameday.cli import main

    try:
        main()
    except SystemExit as exc:
        return _exit_code(exc.code)
    return 0


def _exit_code(code: object) -> int:
    if code is None:
        return 0
    if isinstance(code, int):
        return code
    sys.stderr.write(f"{code}\n")
    return 1
