"""Where the lab keeps what it made: ``$K8SRUN_LAB_DIR`` or ``/run/k8srun-lab``.

``state.json`` schema::

    {
      "processes": {                 # one entry per server the lab started
        "web-a": {"netns": "k8l-pod-a", "pid": 1234, "argv": ["python3", ...],
                  "proto": "tcp", "port": 8080, "log": "/run/k8srun-lab/web-a.log"},
        ...
      },
      "faults": ["mtu", ...],        # faults currently applied, in order
      "created_etc_netns": true,     # whether `lab up` created /etc/netns itself
      "up_at": "2026-11-29T20:00:00Z"  # when `lab up` ran (the API snapshot's creation times)
    }

The directory also holds the API snapshot (``cluster``, see
:mod:`k8srun.lab.cluster`), the certificates (see :mod:`k8srun.lab.certs`),
the HTTP document roots and the server logs. ``lab down`` removes it only
when it holds a ``state.json`` (so a mistyped ``K8SRUN_LAB_DIR`` is never
wiped).
"""

from __future__ import annotations

import json
import os
import shutil
from dataclasses import asdict, dataclass, field
from pathlib import Path

from .system import LabError

STATE_FILE = "state.json"
DEFAULT_DIR = Path("/run/k8srun-lab")


@dataclass
class LabProcess:
    """A server the lab started inside a namespace."""

    netns: str
    pid: int
    argv: list[str]
    proto: str
    port: int
    log: str


@dataclass
class LabState:
    """What ``lab up`` made and which faults are applied."""

    processes: dict[str, LabProcess] = field(default_factory=dict)
    faults: list[str] = field(default_factory=list)
    created_etc_netns: bool = False
    up_at: str = ""


def state_dir() -> Path:
    """The state directory: ``$K8SRUN_LAB_DIR`` or ``/run/k8srun-lab``."""
    return Path(os.environ.get("K8SRUN_LAB_DIR") or DEFAULT_DIR)


def load_state(directory: Path | None = None) -> LabState | None:
    """The saved state, or None when the lab is not up."""
    path = (directory or state_dir()) / STATE_FILE
    try:
        raw = json.loads(path.read_text())
    except FileNotFoundError:
        return None
    except (OSError, ValueError) as exc:
        raise LabError(f"{path} is unreadable ({exc}): run `k8srun lab down` to clean up") from None
    return LabState(processes={name: LabProcess(**proc) for name, proc in raw.get("processes", {}).items()},
                    faults=list(raw.get("faults", [])), created_etc_netns=bool(raw.get("created_etc_netns")),
                    up_at=str(raw.get("up_at") or ""))


def save_state(state: LabState, directory: Path | None = None) -> None:
    """Write ``state.json`` atomically."""
    path = (directory or state_dir()) / STATE_FILE
    scratch = path.with_suffix(".tmp")
    scratch.write_text(json.dumps(asdict(state), indent=2) + "\n")
    scratch.replace(path)


def prepare_state_dir(directory: Path | None = None) -> Path:
    """Create the state directory (mode 0700); refuse a non-empty directory that is not ours."""
    directory = directory or state_dir()
    if directory.exists() and any(directory.iterdir()) and not (directory / STATE_FILE).exists():
        raise LabError(f"{directory} is not empty and holds no {STATE_FILE}: "
                       "point K8SRUN_LAB_DIR at an empty or new directory")
    directory.mkdir(mode=0o700, parents=True, exist_ok=True)
    return directory


def remove_state_dir(directory: Path | None = None) -> None:
    """Delete the state directory if it is the lab's (holds ``state.json``) or empty."""
    directory = directory or state_dir()
    if not directory.is_dir():
        return
    if (directory / STATE_FILE).exists():
        shutil.rmtree(directory)
    elif not any(directory.iterdir()):
        directory.rmdir()
