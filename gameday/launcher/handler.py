"""A launcher's child that becomes one `gameday` command: the command's arguments,
working folder, environment, import path, umask and terminal (its stdin, stdout and
stderr, passed over the socket), then `gameday.cli.main` as a cold start would run it.
(Resource limits and the scheduling priority stay the launcher's.)

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
from collections.abc import Iterable
from types import FrameType
from typing import Any, NoReturn

from gameday.launcher import protocol

# Exit code when the command's side is gone (the same as a process killed by SIGHUP).
CLIENT_GONE = 128 + signal.SIGHUP
REQUEST_TIMEOUT = 10.0


def handle(conn: socket.socket, *, close: Iterable[int]) -> NoReturn:
    """Serve one command on `conn` in this freshly forked process; never returns."""
    code = 70
    told = False
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
        code = _run_command()
        with contextlib.suppress(OSError):
            protocol.send(conn, {"exit": code})
        told = True
    except BaseException:
        with contextlib.suppress(Exception):
            traceback.print_exc()
    finally:
        with contextlib.suppress(Exception):
            sys.stdout.flush()
            sys.stderr.flush()
        if not told:
            with contextlib.suppress(Exception):
                protocol.send(conn, {"exit": code})
        os._exit(code)


def _become(request: dict[str, Any], fds: list[int], conn: socket.socket) -> None:
    """Turn this process into the command of `request`."""
    for target, fd in enumerate(fds):
        os.dup2(fd, target)
        os.close(fd)
    for signum in (signal.SIGTERM, signal.SIGHUP, signal.SIGCHLD):
        signal.signal(signum, signal.SIG_DFL)
    signal.signal(signal.SIGINT, signal.default_int_handler)
    # Not the terminal's foreground process group: without this, a terminal set to
    # `stty tostop` would stop this process at its first line of output.
    signal.signal(signal.SIGTTOU, signal.SIG_IGN)
    os.umask(int(request.get("umask", 0o022)))
    os.environ.clear()
    os.environ.update({str(k): str(v) for k, v in request["env"].items()})
    os.chdir(request["cwd"])
    sys.path[:] = [str(p) for p in request["path"]]
    sys.argv = [str(request["argv0"]), *(str(a) for a in request["argv"])]
    tempfile.tempdir = None  # found again from this environment
    with contextlib.suppress(locale.Error):
        locale.setlocale(locale.LC_CTYPE, "")
    _reopen_stdio()
    _die_with_client(conn)


def _reopen_stdio() -> None:
    """sys.stdin/stdout/stderr on the command's descriptors, buffered and encoded as
    Python does at start (line-buffered on a terminal, stderr always)."""
    encoding = os.environ.get("PYTHONIOENCODING", "").split(":")[0] or locale.getencoding()
    sys.stdin = io.TextIOWrapper(io.FileIO(0, "r", closefd=False), encoding=encoding)
    for fd, name, errors in ((1, "stdout", "strict"), (2, "stderr", "backslashreplace")):
        stream = io.TextIOWrapper(
            io.BufferedWriter(io.FileIO(fd, "w", closefd=False)),
            encoding=encoding,
            errors=errors,
            line_buffering=fd == 2 or os.isatty(fd),
        )
        setattr(sys, name, stream)
        setattr(sys, f"__{name}__", stream)
    sys.__stdin__ = sys.stdin  # type: ignore[misc]


def _die_with_client(conn: socket.socket) -> None:
    """Exit when the command's end of `conn` closes; processes forked from here (the
    run's worker) neither hold `conn` nor hear of it."""
    fd = conn.fileno()

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
        signal.signal(signal.SIGIO, signal.SIG_DFL)
        with contextlib.suppress(OSError):
            os.close(fd)

    signal.signal(signal.SIGIO, check)
    os.register_at_fork(after_in_child=in_child)
    fcntl.fcntl(fd, fcntl.F_SETOWN, os.getpid())
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
