"""The `gameday` side of a warm run: hand the command to the launcher, pass Ctrl-C on,
exit with its code; or say that it could not, and the command runs here as it always did.

A launcher that is missing is started for the next command (detached, with none of this
environment's secrets); this one does not wait for it.
"""

from __future__ import annotations

import contextlib
import io
import os
import signal
import socket
import sys
from collections.abc import Mapping

import gameday
from gameday.launcher import protocol

# How long the launcher may take to take the command before it runs here instead.
HANDSHAKE_TIMEOUT = 5.0
# The handler ended without telling its exit code (it crashed, or was killed).
LOST = 70
# What the launcher process keeps of the environment that starts it: where Python and its
# packages are, and the locale; never tokens (each command brings its own environment).
_SERVER_ENV = ("PATH", "PYTHONPATH", "PYTHONHOME", "VIRTUAL_ENV", "HOME", "LANG", "LC_ALL",
               "LC_CTYPE", "TMPDIR", "PYTHONDONTWRITEBYTECODE", "PYTHONPYCACHEPREFIX",
               "GAMEDAY_RUNTIME_DIR", "XDG_RUNTIME_DIR")  # fmt: skip


def place_for(env: Mapping[str, str]) -> protocol.Place | None:
    """Where this installation's launcher listens (None when the runtime folder is not
    private to this user: then no launcher is used)."""
    folder = protocol.runtime_dir(env)
    if not protocol.private_dir(folder):
        return None
    package_dir = os.path.dirname(gameday.__file__)
    key = protocol.launcher_key(sys.executable, sys.prefix, package_dir, env, sys.flags.utf8_mode)
    return protocol.Place.in_dir(folder, key)


def run_warm(argv: list[str]) -> int | None:
    """Run `gameday ARGV` in the launcher and return its exit code; None when the
    launcher did not take it (nothing ran: run it here)."""
    env = dict(os.environ)
    place = place_for(env)
    if place is None:
        return None
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_SEQPACKET)
    try:
        sock.connect(str(place.socket))
    except OSError:
        sock.close()
        start_launcher(place, env)
        return None
    with sock:
        return _converse(sock, place, argv, env)


def _converse(
    sock: socket.socket, place: protocol.Place, argv: list[str], env: dict[str, str]
) -> int | None:
    sock.settimeout(HANDSHAKE_TIMEOUT)
    opened: list[int] = []
    try:
        protocol.send(sock, _request(argv, env), _stdio(opened))
        reply, _ = protocol.receive(sock)
    except (OSError, ValueError):
        reply = None
    finally:
        for fd in opened:
            os.close(fd)
    if reply is None or "pid" not in reply:
        # Stale, or not answering: a new launcher takes over once this one has gone (the
        # lock lets only one listen).
        start_launcher(place, env)
        return None
    try:
        handler = os.pidfd_open(int(reply["pid"]))  # signals can never reach a reused pid
    except (OSError, ValueError):
        return None  # it is gone already: nothing ran
    try:
        if not _go(sock, handler):
            return None  # "go" did not arrive: nothing runs there
        sock.settimeout(None)
        return _wait_exit(sock)
    finally:
        os.close(handler)


def _request(argv: list[str], env: dict[str, str]) -> dict[str, object]:
    """What the handler needs to be this command (see protocol)."""
    umask = os.umask(0o077)
    os.umask(umask)
    streams = {
        name: {"encoding": stream.encoding, "errors": stream.errors,
               "line_buffering": stream.line_buffering, "write_through": stream.write_through}
        for name, stream in (("stdin", sys.stdin), ("stdout", sys.stdout), ("stderr", sys.stderr))
        if isinstance(stream, io.TextIOWrapper)
    }  # fmt: skip
    return {"argv": argv, "argv0": sys.argv[0], "cwd": os.getcwd(), "env": env,
            "path": sys.path, "umask": umask, "streams": streams,
            "main_package": getattr(sys.modules["__main__"], "__package__", None)}  # fmt: skip


def _go(sock: socket.socket, handler: int) -> bool:
    """Send "go" and from then on pass Ctrl-C to the handler; False when it did not go.

    Ctrl-C is held back while "go" is sent: pressed then, it is passed on once the handler
    runs, or, when "go" failed, it interrupts this command (exit 130) rather than letting
    it run cold.
    """
    signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGINT})
    try:
        protocol.send(sock, {"go": True})
    except OSError:
        signal.pthread_sigmask(signal.SIG_UNBLOCK, {signal.SIGINT})
        return False
    # Ctrl-C goes to this process (the terminal's foreground): the run's halt is its.
    signal.signal(signal.SIGINT, lambda _signum, _frame: _forward(handler, signal.SIGINT))
    signal.pthread_sigmask(signal.SIG_UNBLOCK, {signal.SIGINT})
    return True


def _wait_exit(sock: socket.socket) -> int:
    while True:
        try:
            message, _ = protocol.receive(sock)
        except (OSError, ValueError):
            message = None
        if message is None:
            sys.stderr.write("gameday: error: the launcher's process ended without an exit code\n")
            return LOST
        if "exit" in message:
            return int(message["exit"])


def _stdio(opened: list[int]) -> list[int]:
    """This process's stdin, stdout and stderr (/dev/null for any that is closed)."""
    fds = []
    for fd in (0, 1, 2):
        try:
            os.fstat(fd)
        except OSError:
            fd = os.open(os.devnull, os.O_RDWR)
            opened.append(fd)
        fds.append(fd)
    return fds


def _forward(handler: int, signum: int) -> None:
    with contextlib.suppress(ProcessLookupError):
        signal.pidfd_send_signal(handler, signum)


def launcher_argv(place: protocol.Place) -> list[str]:
    """The command line of the launcher listening at `place`."""
    return [sys.executable, "-P", "-m", "gameday.launcher.server", str(place.socket)]


def start_launcher(place: protocol.Place, env: Mapping[str, str]) -> None:
    """Start this installation's launcher, detached, for the commands after this one."""
    import subprocess

    kept = {name: env[name] for name in _SERVER_ENV if name in env}
    try:
        with open(place.log, "ab") as log:
            subprocess.Popen(
                launcher_argv(place),
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=log,
                cwd="/",
                env=kept,
                start_new_session=True,
            )
    except OSError:
        pass  # no launcher: every run starts cold, as with GAMEDAY_WARM_RUNS=false
