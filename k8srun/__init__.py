"""k8srun — runbooks for Kubernetes incidents, as parameterised Jupyter notebooks.

Layers (each only calls the one below it)::

    runbooks/*.ipynb  ->  k8srun.session (gather + checks + widgets)
    k8srun.checks     DataFrames -> [Finding]            (never runs commands)
    k8srun.frames     Kubernetes objects -> DataFrames   (pure)
    k8srun.sources    where cluster state comes from: scenario, snapshot bundle, live, none
    k8srun.report     papermill execution, HTML report, findings.json
"""

__version__ = "0.1.0"
