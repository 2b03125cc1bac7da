"""Warm kernels for the build: each notebook still gets a fresh kernel, forked from a process
that has already imported what every notebook imports.

A kernel started the usual way (``python -m ipykernel_launcher``) spends about 3 s of CPU
before the notebook's first line runs: the interpreter, ipykernel, pandas, SciPy and the review
are imported anew in each of the build's 12 kernels. :func:`kernel_server` starts one *server*
process per build that imports them once (:data:`PRELOAD`) and then forks a child for each
kernel the build asks for. The child is a new process with memory of its own (copy-on-write),
the kernel's environment, working directory, standard streams and connection file; nothing one
notebook does reaches another, and the outputs are those of an ordinary kernel (the build's
tests compare them).

The kernel manager (``jupyter_client``) sees an ordinary kernel: its command is a small
*launcher* (``python -m evidence.site.kernels launch SOCKET CONNECTION_FILE [ARGS]``) that hands the
request and its standard streams to the server, forwards signals (interrupt, terminate) to the
child and exits when the child does. A child whose launcher dies (the build kills it on Ctrl-C)
sees its connection close and exits at once; the server exits with the build.

The inline backend is not imported before the fork: it hooks into the kernel's shell when it
is first imported, so each kernel imports it itself (pyplot is preloaded: it loads its backend
only when the first figure is made).
POSIX only (``os.fork``, Unix sockets); elsewhere :func:`kernel_server` yields ``None`` and the
build uses ordinary kernels.
"""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path

__all__ = ["PRELOAD", "kernel_server", "kernel_spec"]

#: Modules the server imports before it forks (what the notebooks import; not the inline
#: backend).
PRELOAD = (
    "ipykernel.kernelapp",
    "IPython.display",
    "numpy",
    "pandas",
    "scipy.stats",
    "scipy.optimize",
    "matplotlib",
    "matplotlib.figure",
    "matplotlib.pyplot",
    "matplotlib.backends.backend_agg",
    "matplotlib.backends.backend_svg",
    "evidence.review",
    "evidence.review.pages",
    "evidence.review.claims",
    "evidence.review.display",
    "evidence.plots",
)
_READY_TIMEOUT = 30.0  # seconds the build waits for the server's socket


@contextmanager
def kernel_server(env: Mapping[str, str]) -> Iterator[Path | None]:
    """Run a kernel server for the duration of the block; yields its socket path (``None``
    where processes cannot fork, or when the server did not start).

    ``env`` is the kernels' environment: the server imports the preloaded modules under it (so
    matplotlib reads the kernels' ``MPLBACKEND``), and each child takes its launcher's.

    Examples
    --------
    >>> import os
    >>> with kernel_server(os.environ) as path:
    ...     print(path is None or path.exists())
    True
    """
    if not hasattr(os, "fork") or not hasattr(socket, "send_fds"):
        yield None
        return
    with tempfile.TemporaryDirectory(prefix="evidence-kernels-") as folder:
        path = Path(folder) / "server"
        proc = subprocess.Popen(
            [sys.executable, "-m", __name__, "serve", str(path)],
            env=dict(env),
            stdin=subprocess.DEVNULL,
            start_new_session=True,  # a terminal's Ctrl-C reaches the build, not the kernels
        )
        try:
            deadline = time.monotonic() + _READY_TIMEOUT
            while not path.exists() and proc.poll() is None and time.monotonic() < deadline:
                time.sleep(0.01)
            yield path if path.exists() else None
        finally:
            proc.terminate()
            try:
                proc.wait(timeout=40)  # it waits up to 30 s for kernels still running
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()


def kernel_spec(server: Path):
    """The kernel spec whose command asks ``server`` for a forked kernel."""
    from jupyter_client.kernelspec import KernelSpec

    argv = [sys.executable, "-m", __name__, "launch", str(server), "{connection_file}"]
    return KernelSpec(
        argv=argv, display_name="Python 3 (forked)", language="python", interrupt_mode="signal"
    )


# ------------------------------------------------------------------------------ server


def _serve(path: Path) -> None:
    """Import :data:`PRELOAD`, then listen on ``path`` and fork one kernel per request until
    terminated (SIGTERM: then wait for the kernels still running) or orphaned."""
    if sys.path and sys.path[0] in ("", os.getcwd()):
        del sys.path[0]  # as ipykernel_launcher does: the working directory is not a package
    server = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    tmp = path.with_name(path.name + ".tmp")
    server.bind(str(tmp))
    server.listen(16)
    parent = os.getppid()
    for name in PRELOAD:
        try:
            __import__(name)
        except ImportError:  # a missing optional module only makes that kernel slower
            pass
    stop: list[int] = []
    signal.signal(signal.SIGTERM, lambda signum, _frame: stop.append(signum))
    os.rename(tmp, path)  # ready
    server.settimeout(0.2)
    children: set[int] = set()
    while not stop and os.getppid() == parent:  # orphaned: the build died without stopping us
        _reap(children)
        try:
            conn, _ = server.accept()
        except TimeoutError:
            continue
        conn.settimeout(None)
        try:
            request, fds = _receive(conn)
        except (OSError, ValueError):
            conn.close()
            continue
        pid = os.fork()
        if pid == 0:
            server.close()
            _run_kernel(conn, request, fds)  # never returns
        children.add(pid)
        conn.close()
        for fd in fds:
            os.close(fd)
    # wait for the kernels still running (they end with their launchers): a parent that waits
    # for its children adds their CPU time to its own, so the build's accounting includes them
    deadline = time.monotonic() + 30
    while _reap(children) and time.monotonic() < deadline:
        time.sleep(0.05)


def _reap(children: set[int]) -> set[int]:
    """Collect the children that have ended; the ones still running."""
    for pid in list(children):
        try:
            done, _ = os.waitpid(pid, os.WNOHANG)
        except ChildProcessError:
            done = pid
        if done:
            children.discard(pid)
    return children


def _receive(conn: socket.socket) -> tuple[dict, list[int]]:
    """One request: a length-prefixed JSON object and the launcher's stdin, stdout, stderr."""
    head, fds, _, _ = socket.recv_fds(conn, 16, 3)
    size, _, rest = head.partition(b"\n")
    data = rest
    while len(data) < int(size):
        chunk = conn.recv(int(size) - len(data))
        if not chunk:
            raise ValueError("launcher closed the connection")
        data += chunk
    if len(fds) != 3:
        raise ValueError("expected three file descriptors")
    return json.loads(data), list(fds)


def _run_kernel(conn: socket.socket, request: dict, fds: list[int]) -> None:
    """In the forked child: become the launcher's kernel, then exit (never returns)."""
    code = 1
    try:
        signal.signal(signal.SIGINT, signal.default_int_handler)
        signal.signal(signal.SIGTERM, signal.SIG_DFL)
        for target, fd in enumerate(fds):
            os.dup2(fd, target)
            os.close(fd)
        os.chdir(request["cwd"])
        os.environ.clear()
        os.environ.update(request["env"])
        _reseed()
        conn.sendall(f"{os.getpid()}\n".encode())
        # the launcher holds the other end: when it goes (killed, or the build stopped), so do we
        threading.Thread(target=_exit_with, args=(conn,), daemon=True).start()
        # the launcher is the kernel's parent as the kernel manager sees it
        handle = f"--IPKernelApp.parent_handle={request['pid']}"
        sys.argv = [
            "ipykernel_launcher",
            "-f",
            request["connection_file"],
            *request["args"],
            handle,
        ]
        from ipykernel import kernelapp

        kernelapp.launch_new_instance()
        code = 0
    except SystemExit as exc:
        code = exc.code if isinstance(exc.code, int) else 0
    except BaseException:  # noqa: BLE001 - reported on the kernel's stderr, then exit
        import traceback

        traceback.print_exc()
    finally:
        for stream in (sys.stdout, sys.stderr, sys.__stdout__, sys.__stderr__):
            try:
                stream.flush()
            except Exception:  # noqa: BLE001, S110 - exiting anyway
                pass
        os._exit(code)


def _reseed() -> None:
    """Fresh global random state for numpy, as a new process has (forked children would share
    the server's; Python's ``random`` reseeds itself after a fork)."""
    if "numpy" in sys.modules:
        sys.modules["numpy"].random.seed()


def _exit_with(conn: socket.socket) -> None:
    try:
        while conn.recv(1):
            pass
    except OSError:
        pass
    os._exit(1)


# ------------------------------------------------------------------------------ launcher


def _launch(server: Path, connection_file: str, args: list[str]) -> int:
    """The kernel command: ask ``server`` for a kernel (``args`` are the kernel's further
    command-line options, e.g. nbclient's in-memory history), forward signals, wait for its
    end."""
    conn = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    conn.connect(str(server))
    payload = json.dumps(
        {
            "connection_file": os.path.abspath(connection_file),
            "cwd": os.getcwd(),
            "env": dict(os.environ),
            "pid": os.getpid(),
            "args": list(args),
        }
    ).encode()
    socket.send_fds(conn, [f"{len(payload)}\n".encode()], [0, 1, 2])
    conn.sendall(payload)
    line = b""
    while not line.endswith(b"\n"):
        chunk = conn.recv(64)
        if not chunk:
            return 1
        line += chunk
    child = int(line)

    def forward(signum, _frame):
        try:
            os.kill(child, signum)
        except OSError:
            pass

    for signum in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP, signal.SIGQUIT):
        signal.signal(signum, forward)
    while True:
        try:
            if not conn.recv(64):
                return 0
        except InterruptedError:
            continue


def _main(argv: list[str]) -> int:
    if argv[:1] == ["serve"] and len(argv) == 2:
        _serve(Path(argv[1]))
        return 0
    if argv[:1] == ["launch"] and len(argv) >= 3:
        return _launch(Path(argv[1]), argv[2], argv[3:])
    print("usage: python -m evidence.site.kernels serve SOCKET | launch SOCKET FILE [ARGS]")
    return 2


if __name__ == "__main__":
    sys.exit(_main(sys.argv[1:]))
