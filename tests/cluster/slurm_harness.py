"""A real single-node SLURM on 127.0.0.1 for the cluster tests, started and stopped here.

When a SLURM already answers (``sinfo`` lists a node), it is used as it is and nothing is
started or stopped. Otherwise munged, slurmctld and slurmd are started (as root: slurmd
must be), with a slurm.conf written to /etc/slurm (the job steps inside a job read it
from there; any file already there is put back afterwards). Only processes started here
are stopped, by their PID. Every wait has a deadline that fails the test.

Settings that work on Debian bookworm's SLURM 22.05 without cgroups or an accounting
database: proctrack/linuxproc, task/none, cons_tres with CR_Core_Memory, the node line of
``slurmd -C`` with 90 % of its memory, and MinJobAge=300 so that finished jobs stay in
``squeue`` (the profile asks squeue for job states; sacct needs accounting).
"""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import subprocess
import time
from pathlib import Path

import pytest

SLURM_CONF = Path("/etc/slurm/slurm.conf")
MUNGE_SOCKET_DIR = Path("/run/munge")
START_TIMEOUT_S = 60.0
OTHER_PARTITION = "pixelpatrol"
"""A second, non-default partition: a run that asks for it proves the override works."""
BINARIES = ("munged", "munge", "slurmctld", "slurmd", "sinfo", "squeue", "sbatch", "scancel")


def _run(args: list[str], timeout: float = 15.0) -> subprocess.CompletedProcess[str]:
    return subprocess.run(args, capture_output=True, text=True, timeout=timeout, check=False)


def slurm_answers() -> bool:
    """Whether a SLURM controller answers and lists at least one node."""
    if shutil.which("sinfo") is None:
        return False
    try:
        done = _run(["sinfo", "-h", "-o", "%N"], timeout=10)
    except subprocess.TimeoutExpired:
        return False
    return done.returncode == 0 and bool(done.stdout.strip())


def _node_line() -> tuple[str, str]:
    """The node line of ``slurmd -C``, on 127.0.0.1, with 90 % of the memory."""
    out = _run(["slurmd", "-C"]).stdout.splitlines()[0]
    fields = dict(part.split("=", 1) for part in out.split() if "=" in part)
    fields["RealMemory"] = str(int(int(fields["RealMemory"]) * 0.9))
    fields.pop("UpTime", None)
    name = fields.pop("NodeName")
    rest = " ".join(f"{k}={v}" for k, v in fields.items())
    return f"NodeName={name} NodeAddr=127.0.0.1 {rest} State=UNKNOWN", name


def slurm_conf(root: Path) -> str:
    """A slurm.conf for one node on 127.0.0.1, keeping state and logs under ``root``."""
    node, name = _node_line()
    return "\n".join(
        [
            "ClusterName=pixelpatrol-test",
            f"SlurmctldHost={name}(127.0.0.1)",
            "SlurmUser=root",
            "SlurmdUser=root",
            "SlurmctldPort=16817",
            "SlurmdPort=16818",
            "AuthType=auth/munge",
            f"StateSaveLocation={root / 'state'}",
            f"SlurmdSpoolDir={root / 'spool'}",
            f"SlurmctldPidFile={root / 'slurmctld.pid'}",
            f"SlurmdPidFile={root / 'slurmd.pid'}",
            f"SlurmctldLogFile={root / 'slurmctld.log'}",
            f"SlurmdLogFile={root / 'slurmd.log'}",
            "ProctrackType=proctrack/linuxproc",
            "TaskPlugin=task/none",
            "SelectType=select/cons_tres",
            "SelectTypeParameters=CR_Core_Memory",
            "ReturnToService=2",
            "MinJobAge=300",
            "SchedulerType=sched/backfill",
            "JobAcctGatherType=jobacct_gather/none",
            "AccountingStorageType=accounting_storage/none",
            "MpiDefault=none",
            "MailProg=/bin/true",
            node,
            f"PartitionName=debug Nodes={name} Default=YES MaxTime=INFINITE State=UP",
            f"PartitionName={OTHER_PARTITION} Nodes={name} Default=NO MaxTime=INFINITE State=UP",
            "",
        ]
    )


class LocalSlurm:
    """Start (if needed) and stop a single-node SLURM; only what was started is stopped."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.started: list[subprocess.Popen[bytes]] = []
        self._munged_pid: int | None = None
        self._conf_backup: bytes | None = None
        self._wrote_conf = False

    def start(self) -> None:
        """Make sure a SLURM answers; fail the test when it cannot be started."""
        if slurm_answers():
            return
        missing = [b for b in BINARIES if shutil.which(b) is None]
        if missing:
            pytest.fail(
                f"SLURM is not installed (missing {', '.join(missing)}); run "
                "`bash tests/install_system_packages.sh slurmctld slurmd slurm-client munge`",
                pytrace=False,
            )
        if os.geteuid() != 0:
            pytest.fail("starting a local SLURM needs root (slurmd runs as root)", pytrace=False)
        for sub in ("state", "spool"):
            (self.root / sub).mkdir(parents=True, exist_ok=True)
        self._start_munge()
        if SLURM_CONF.exists():
            self._conf_backup = SLURM_CONF.read_bytes()
        SLURM_CONF.parent.mkdir(parents=True, exist_ok=True)
        SLURM_CONF.write_text(slurm_conf(self.root), "utf-8")
        self._wrote_conf = True
        for daemon in ("slurmctld", "slurmd"):
            log = (self.root / f"{daemon}.out").open("wb")
            self.started.append(
                subprocess.Popen(
                    [f"/usr/sbin/{daemon}", "-D"],
                    stdout=log,
                    stderr=subprocess.STDOUT,
                    stdin=subprocess.DEVNULL,
                    start_new_session=True,
                )
            )
            log.close()
        self._wait_idle()

    def _start_munge(self) -> None:
        if _run(["munge", "-n"]).returncode == 0:
            return
        MUNGE_SOCKET_DIR.mkdir(parents=True, exist_ok=True)
        shutil.chown(MUNGE_SOCKET_DIR, "munge", "munge")
        pid_file = MUNGE_SOCKET_DIR / "munged.pid"
        done = _run(["runuser", "-u", "munge", "--", "/usr/sbin/munged"])
        if done.returncode != 0:
            pytest.fail(f"munged did not start: {done.stderr.strip()}", pytrace=False)
        self._munged_pid = int(pid_file.read_text().strip())
        deadline = time.monotonic() + START_TIMEOUT_S
        while _run(["munge", "-n"]).returncode != 0:
            if time.monotonic() > deadline:
                pytest.fail("munged did not answer within 60 s", pytrace=False)
            time.sleep(0.2)

    def _wait_idle(self) -> None:
        deadline = time.monotonic() + START_TIMEOUT_S
        while True:
            done = _run(["sinfo", "-h", "-o", "%t"], timeout=10)
            if done.returncode == 0 and done.stdout.strip() in {"idle", "mix", "alloc"}:
                return
            for proc in self.started:
                if proc.poll() is not None:
                    log = (self.root / f"{Path(str(proc.args[0])).name}.out").read_text()
                    pytest.fail(f"{proc.args[0]} exited: {log[-2000:]}", pytrace=False)
            if time.monotonic() > deadline:
                pytest.fail(f"the SLURM node was not idle within 60 s: {done}", pytrace=False)
            time.sleep(0.5)

    def stop(self) -> None:
        """Stop the daemons started here (by PID) and put slurm.conf back."""
        for proc in reversed(self.started):
            proc.send_signal(signal.SIGTERM)
            try:
                proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait(timeout=10)
        self.started.clear()
        if self._munged_pid is not None:
            with contextlib.suppress(ProcessLookupError):
                os.kill(self._munged_pid, signal.SIGTERM)
            self._munged_pid = None
        if self._wrote_conf:
            if self._conf_backup is not None:
                SLURM_CONF.write_bytes(self._conf_backup)
            else:
                SLURM_CONF.unlink(missing_ok=True)
            self._wrote_conf = False


def _jobs(field: str) -> dict[str, str]:
    done = _run(["squeue", "--states=all", "-h", "-o", f"%i|{field}"])
    assert done.returncode == 0, done.stderr
    return dict(line.split("|", 1) for line in done.stdout.split())


def job_states() -> dict[str, str]:
    """SLURM job id -> state of every job the controller still knows (MinJobAge=300)."""
    return _jobs("%T")


def job_partitions() -> dict[str, str]:
    """SLURM job id -> partition of every job the controller still knows."""
    return _jobs("%P")


def running_jobs(workdir: Path) -> list[str]:
    """Ids of the jobs running now in ``workdir`` (never someone else's)."""
    done = _run(["squeue", "--states=RUNNING", "-h", "-o", "%i|%Z"])
    assert done.returncode == 0, done.stderr
    rows = (line.split("|", 1) for line in done.stdout.splitlines() if "|" in line)
    return [job for job, cwd in rows if Path(cwd) == workdir]


def has_partition(name: str) -> bool:
    """Whether the live SLURM has a partition called ``name``."""
    done = _run(["sinfo", "-h", "-o", "%R"])
    return done.returncode == 0 and name in done.stdout.split()
