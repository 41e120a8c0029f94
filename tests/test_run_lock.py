"""One writer per run directory: a second process is refused, naming the lock and its holder;
a lock left by a killed process does not block."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from oodcalib.errors import OodcalibError
from oodcalib.run_lock import (
    LOCK_NAME,
    RunLockedError,
    holds_run_lock,
    lock_path,
    run_lock,
    unless_locked,
)

REPO = Path(__file__).resolve().parents[1]


def _holder(run_dir: Path) -> subprocess.Popen:
    """Another process holding ``run_dir``'s lock until it is killed."""
    code = textwrap.dedent(f"""
        import sys, time
        from oodcalib.run_lock import run_lock
        with run_lock({str(run_dir)!r}, command="oodcalib run --preset paper"):
            print("locked", flush=True)
            time.sleep(120)
    """)
    env = {**os.environ, "PYTHONPATH": str(REPO / "src")}
    process = subprocess.Popen(
        [sys.executable, "-c", code], stdout=subprocess.PIPE, text=True, env=env
    )
    assert process.stdout is not None and process.stdout.readline().strip() == "locked"
    return process


@pytest.fixture
def holder(tmp_path):
    run_dir = tmp_path / "run"
    process = _holder(run_dir)
    yield run_dir, process
    if process.poll() is None:
        process.kill()
    process.wait()


def test_a_second_process_is_refused_naming_the_lock_and_the_holder(holder):
    run_dir, process = holder
    with pytest.raises(RunLockedError) as info:
        with run_lock(run_dir):
            pass
    message = str(info.value)
    assert message.startswith(f"{run_dir / LOCK_NAME}: the run directory is in use by ")
    assert f"PID {process.pid} on {socket.gethostname()}" in message
    assert "oodcalib run --preset paper" in message and "\n" not in message
    record = json.loads(lock_path(run_dir).read_text())
    assert record["pid"] == process.pid and record["command"] == "oodcalib run --preset paper"


def test_the_cli_of_a_second_writer_exits_2_with_one_line(holder):
    run_dir, process = holder
    env = {**os.environ, "PYTHONPATH": str(REPO / "src")}
    second = subprocess.run(
        [sys.executable, "-m", "oodcalib", "run", "--preset", "smoke", "--out", str(run_dir)],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
    )
    assert second.returncode == 2, second.stderr
    lines = second.stderr.strip().splitlines()
    assert len(lines) == 1 and "Traceback" not in second.stderr
    assert str(run_dir / LOCK_NAME) in lines[0] and f"PID {process.pid}" in lines[0]
    assert not (run_dir / "config.json").exists()  # the refused writer wrote nothing


def test_a_lock_left_by_a_killed_process_does_not_block(holder):
    run_dir, process = holder
    process.send_signal(signal.SIGKILL)
    process.wait()
    assert lock_path(run_dir).exists()  # the file stays, the lock went with its process
    with run_lock(run_dir, command="resume") as path:
        assert path == lock_path(run_dir)
        assert json.loads(path.read_text())["pid"] == os.getpid()
    assert path.read_text() == ""  # released: no stale holder recorded


def test_a_reader_reads_while_another_process_writes(holder):
    run_dir, _ = holder
    with unless_locked(run_dir) as free:
        assert free is False
    with unless_locked(run_dir.parent / "other") as free:  # missing: nobody writes there
        assert free is True
        assert not (run_dir.parent / "other").exists()


def test_the_lock_is_reentrant_within_a_process(tmp_path):
    @holds_run_lock
    def work(run_dir: Path) -> str:
        return json.loads(lock_path(run_dir).read_text())["command"]

    with run_lock(tmp_path, command="outer"):
        assert work(tmp_path) == "outer"  # the nested taking keeps the outer holder
        with run_lock(tmp_path):
            pass
        assert json.loads(lock_path(tmp_path).read_text())["command"] == "outer"
    assert lock_path(tmp_path).read_text() == ""


def test_a_run_directory_that_is_a_file_or_a_broken_link_is_named(tmp_path):
    a_file = tmp_path / "a_file"
    a_file.write_text("")
    with pytest.raises(OodcalibError, match=f"^{a_file}: the run directory is a file$"):
        with run_lock(a_file):
            pass
    loop = tmp_path / "loop"
    loop.symlink_to(loop)
    with pytest.raises(OodcalibError, match=f"^{loop}: the run directory is a symlink to nothing"):
        with run_lock(loop):
            pass


def test_the_lock_file_follows_the_umask(tmp_path):
    old = os.umask(0o027)
    try:
        with run_lock(tmp_path / "run"):
            pass
    finally:
        os.umask(old)
    assert lock_path(tmp_path / "run").stat().st_mode & 0o777 == 0o640


def test_a_missing_run_of_a_command_on_a_finished_run_is_not_created(tmp_path):
    @holds_run_lock
    def work(run_dir: Path) -> bool:
        return run_dir.exists()

    assert work(tmp_path / "nope") is False
