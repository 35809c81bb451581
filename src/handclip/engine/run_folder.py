"""A run folder is never overwritten by accident and never written by two trainings at once.

`prepare` refuses a folder that already holds a run unless the training resumes it or was told to
overwrite it (then the run's files are deleted first, and only if the folder holds nothing else).
`RunLock` is `train.lock` in the folder, holding the owner's pid, host and process start time: a
second live training is refused, a lock left by a crashed one (its process gone) is taken over.
"""

from __future__ import annotations

import os
import shutil
import socket
import sys
from pathlib import Path

from handclip.errors import UserError

LOCK_NAME = "train.lock"
# what a training writes into its folder (the Trainer, its logs, and `handclip eval`'s default output)
RUN_ENTRIES = {"config.yaml", "checkpoints", "tb", "train_log.jsonl", "val", "curves.png", "curves.json", "eval",
               LOCK_NAME}
RUN_MARKERS = ("config.yaml", "checkpoints", LOCK_NAME)


class RunLockedError(UserError):
    """Another live training holds the run folder's lock."""


def _start_time(pid: int) -> str | None:
    """The process's start time in clock ticks since boot (Linux /proc), None where unknown."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    return stat.rsplit(")", 1)[1].split()[19]


def _alive(pid: int) -> bool:
    """Whether a process with this pid exists on this machine."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


class RunLock:
    """Exclusive ownership of a run folder by one training process (use as a context manager)."""

    def __init__(self, run_dir: str | Path):
        self.path = Path(run_dir) / LOCK_NAME
        self.held = False

    def owner(self) -> dict | None:
        """{'pid', 'host', 'start'} of the lock file, None when it is absent or unreadable."""
        try:
            pid, host, start = self.path.read_text().split()
            return {"pid": int(pid), "host": host, "start": start}
        except (OSError, ValueError):
            return None

    def live_owner(self) -> dict | None:
        """The owner when it may still be training (another host counts as live: it cannot be checked here)."""
        owner = self.owner()
        if owner is None:
            return None
        if owner["host"] != socket.gethostname():
            return owner
        if not _alive(owner["pid"]):
            return None
        start = _start_time(owner["pid"])
        return owner if start is None or owner["start"] in ("?", start) else None  # a reused pid is not the owner

    def refusal(self, owner: dict) -> RunLockedError:
        """The error telling a second training that `owner` writes the folder, and what to do."""
        return RunLockedError(f"{self.path.parent}: another training (pid {owner['pid']} on {owner['host']}) is writing "
                              f"to this run folder; wait for it to finish or give another --out (if no training runs, "
                              f"delete {self.path})")

    def acquire(self) -> RunLock:
        """Take the lock, taking over a stale one; RunLockedError when a live training holds it."""
        self.path.parent.mkdir(parents=True, exist_ok=True)
        record = f"{os.getpid()} {socket.gethostname()} {_start_time(os.getpid()) or '?'}\n"
        for _ in range(3):
            try:
                fd = os.open(self.path, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o644)
            except FileExistsError:
                owner = self.live_owner()
                if owner is not None:
                    raise self.refusal(owner) from None
                stale = self.owner()
                self.path.unlink(missing_ok=True)
                if stale is not None:
                    print(f"handclip: took over {self.path} from pid {stale['pid']}, which ended without releasing it",
                          file=sys.stderr)
                continue
            with os.fdopen(fd, "w") as f:
                f.write(record)
            self.held = True
            return self
        raise RunLockedError(f"{self.path}: could not take the run folder's lock; another training keeps taking it")

    def release(self) -> None:
        """Delete the lock file if this process holds it."""
        owner = self.owner()
        if self.held and owner is not None and owner["pid"] == os.getpid():
            self.path.unlink(missing_ok=True)
        self.held = False

    def __enter__(self) -> RunLock:
        return self.acquire()

    def __exit__(self, *exc) -> None:
        self.release()


def holds_run(run_dir: str | Path) -> bool:
    """Whether `run_dir` holds a training run (its config.yaml, checkpoints/ or lock)."""
    return any((Path(run_dir) / marker).exists() for marker in RUN_MARKERS)


def prepare(run_dir: str | Path, resume: bool = False, overwrite: bool = False) -> Path:
    """Check (and with `overwrite`, clear) the folder a new or resumed training is about to write."""
    run_dir = Path(run_dir)
    if resume and overwrite:
        raise UserError("--resume continues the run and --overwrite deletes it first: give one of them")
    if run_dir.exists() and not run_dir.is_dir():
        raise UserError(f"--out {run_dir}: is a file; give a folder for the run")
    entries = sorted(p.name for p in run_dir.iterdir()) if run_dir.is_dir() else []
    lock = RunLock(run_dir)
    owner = lock.live_owner() if LOCK_NAME in entries else None
    if owner is not None:
        raise lock.refusal(owner)
    if resume or not entries:
        return run_dir
    if not holds_run(run_dir):
        raise UserError(f"--out {run_dir}: the folder holds files that are not a handclip run ({', '.join(entries[:5])}"
                        f"{', ...' if len(entries) > 5 else ''}); give a new or empty folder")
    if not overwrite:
        raise UserError(f"--out {run_dir}: already holds a run; continue it with --resume, replace it with "
                        f"--overwrite, or give another --out")
    foreign = [name for name in entries if name not in RUN_ENTRIES]
    if foreign:
        raise UserError(f"--out {run_dir}: --overwrite would also delete files that are not the run's ({', '.join(foreign[:5])}); "
                        f"move them away or give another --out")
    shutil.rmtree(run_dir)
    return run_dir
