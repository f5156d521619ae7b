"""scenariokit: build k8srun's recorded scenarios (snapshot bundles) from short recipes.

Import it with ``tools/`` on ``sys.path``. Modules, by concern:

- :mod:`scenariokit.objects`: stable values (capture time, uids, names),
  containers, probes, container runs (:class:`~scenariokit.objects.Run`);
- :mod:`scenariokit.events`: events of the scheduler, kubelet and
  controllers, and their messages;
- :mod:`scenariokit.cluster`: the :class:`~scenariokit.cluster.Cluster`
  holding a scenario's objects; :mod:`scenariokit.workloads`: StatefulSets,
  Jobs, DaemonSets, healthy and unschedulable Deployments;
  :mod:`scenariokit.storage`: claims and volumes;
- :mod:`scenariokit.base`: the one base cluster every scenario starts from;
- :mod:`scenariokit.apps`: sample applications several scenarios share,
  each with its failure;
- :mod:`scenariokit.lab`: :func:`~scenariokit.lab.lab_cluster`, the fault
  lab itself as a scenario's cluster (``k8srun.lab.cluster``), for
  scenarios recorded with ``"cluster": "lab"``;
- :mod:`scenariokit.bundle`: rendering a cluster as a bundle, writing it
  without touching the recorded ``hosts/`` part;
- :mod:`scenariokit.recipes`: finding and running the recipes in
  ``tools/scenarios/<scenario-name>.py``.

Entry points for other tools: :func:`recipe_names` and
:func:`build_scenario` ``(name, out_dir)``.
"""

from .recipes import DEFAULT_OUT, RECIPES_DIR, build, build_cluster, build_scenario, recipe_names

__all__ = ["DEFAULT_OUT", "RECIPES_DIR", "build", "build_cluster", "build_scenario", "recipe_names"]
