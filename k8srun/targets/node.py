"""``node:NODENAME`` — run a command on a Kubernetes node through ``kubectl debug``.

**The one exception to read-only.** Every other part of k8srun only reads
the cluster; this target *creates* a debug pod (the user chose it by
picking a ``node:`` target) and deletes it again after each command, also
when the command failed or timed out. Per command it runs::

    kubectl [--kubeconfig K] [--context C] --namespace NS debug node/NODENAME \\
        --profile=sysadmin --image=IMAGE --stdin=false --tty=false --attach=true \\
        -- chroot /host ARGV...
    kubectl ... get pod POD -o jsonpath={.status.containerStatuses[0].state.terminated.exitCode}
    kubectl ... delete pod POD --ignore-not-found --wait=false

``POD`` is read from the line kubectl prints first on stdout ("Creating
debugging pod node-debugger-NODENAME-xxxxx with container debugger on node
NODENAME."); that line is removed from the command's stdout. ``kubectl
debug --attach`` does not pass the container's exit code on, hence the
``get pod``. Exit code 127 from ``chroot`` means the tool is missing on the
node. If the pod cannot be deleted a warning names the command to delete it.
Results follow the CommandResult schema in :mod:`k8srun.targets`.
"""

from __future__ import annotations

import re
import shutil
import warnings
from pathlib import Path

from ..errors import ParameterError
from ..params import dns1123_label, dns1123_subdomain
from . import CommandResult, first_line
from .process import ProcessTarget, failure_reason, run_process

#: the toolbox image of the debug pod (has iptables, conntrack, ip, dig, curl, ...)
DEFAULT_IMAGE = "nicolaka/netshoot"

_CREATED_LINE = re.compile(r"^Creating debugging pod (?P<pod>[a-z0-9.-]+) with container \S+ on node \S+\.\n?")
_IMAGE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._/:@-]{0,254}$")
_EXIT_CODE_PATH = "jsonpath={.status.containerStatuses[0].state.terminated.exitCode}"


class DebugPodLeftBehind(UserWarning):
    """A ``kubectl debug`` pod could not be deleted; the message says how to delete it."""


class NodeTarget(ProcessTarget):
    """``node:NODENAME``: a ``kubectl debug node`` pod per command, deleted afterwards."""

    def __init__(self, node: str, *, image: str = DEFAULT_IMAGE, namespace: str = "default",
                 kubeconfig: str | None = None, context: str | None = None, timeout_s: float = 10):
        try:
            dns1123_subdomain("target", node)
        except ParameterError:
            raise ParameterError("target", f"node:{node}", "node names are DNS-1123 names "
                                 "(lower-case letters, digits, '-' and '.')") from None
        if not isinstance(image, str) or not _IMAGE.match(image):
            raise ParameterError("image", image, "not a container image reference (e.g. nicolaka/netshoot:latest)")
        if kubeconfig is not None and not Path(kubeconfig).expanduser().is_file():
            raise ParameterError("kubeconfig", kubeconfig, "no such file")
        if context is not None and (not isinstance(context, str) or not context.strip()
                                    or context.startswith("-") or any(c in context for c in "\0\n")):
            raise ParameterError("context", context, "must be a kubeconfig context name")
        super().__init__(f"node:{node}", timeout_s=timeout_s)
        self.node = node
        self.image = image
        self.namespace = dns1123_label("namespace", namespace)
        self.kubeconfig = str(Path(kubeconfig).expanduser()) if kubeconfig else None
        self.context = context

    @property
    def host(self) -> str:
        return self.node

    def kubectl(self, *args: str) -> list[str]:
        """A kubectl argv with this target's kubeconfig, context and namespace."""
        argv = ["kubectl"]
        if self.kubeconfig:
            argv += ["--kubeconfig", self.kubeconfig]
        if self.context:
            argv += ["--context", self.context]
        return [*argv, "--namespace", self.namespace, *args]

    def wrap(self, argv, timeout_s):
        return self.kubectl("debug", f"node/{self.node}", "--profile=sysadmin", f"--image={self.image}",
                            "--stdin=false", "--tty=false", "--attach=true",
                            "--", "chroot", "/host", *argv)

    def precheck(self, argv):
        if shutil.which("kubectl") is None:
            return f"kubectl not found on this machine, needed for {self.spec}"
        return None

    def result(self, command_id, argv, outcome, timeout_s):
        created = _CREATED_LINE.match(outcome.stdout)
        stdout = outcome.stdout[created.end():] if created else outcome.stdout
        exit_code = outcome.exit_code
        try:
            if created and outcome.exit_code == 0:
                exit_code = self.container_exit_code(created["pod"], exit_code)
        finally:
            if created:
                self.delete_pod(created["pod"])
        if outcome.timed_out or outcome.exit_code != 0:
            error = failure_reason("kubectl debug" if not outcome.timed_out else argv[0],
                                   self.spec, outcome, timeout_s)
        elif exit_code == 127:
            error = f"{argv[0]} not found on {self.spec}"
        elif exit_code:
            detail = first_line(outcome.stderr)
            error = f"{argv[0]} exited with code {exit_code} on {self.spec}" + (f": {detail}" if detail else "")
        else:
            error = None
        return CommandResult(target=self.spec, command_id=command_id, argv=argv, stdout=stdout,
                             stderr=outcome.stderr, exit_code=exit_code, duration_s=outcome.duration_s,
                             started_at=outcome.started_at, error=error)

    def container_exit_code(self, pod: str, fallback: int | None) -> int | None:
        """The debug container's exit code, or ``fallback`` when the API does not say."""
        outcome = run_process(self.kubectl("get", "pod", pod, "-o", _EXIT_CODE_PATH), self.timeout_s)
        text = outcome.stdout.strip()
        return int(text) if outcome.exit_code == 0 and text.lstrip("-").isdigit() else fallback

    def delete_pod(self, pod: str) -> None:
        """Delete the debug pod; warn with the manual command if that fails."""
        argv = self.kubectl("delete", "pod", pod, "--ignore-not-found", "--wait=false")
        try:
            outcome = run_process(argv, self.timeout_s)
            problem = failure_reason("kubectl delete", self.spec, outcome, self.timeout_s)
        except OSError as exc:
            problem = str(exc)
        if problem:
            warnings.warn(f"debug pod {self.namespace}/{pod} was left behind ({problem}); "
                          f"delete it with: kubectl delete pod -n {self.namespace} {pod}",
                          DebugPodLeftBehind, stacklevel=3)
