"""The fault lab: a tiny Kubernetes-shaped network in Linux namespaces, broken on purpose.

Modules, each only calling the ones below it::

    cli        `k8srun lab up | down | status [--json] | break FAULT | fix FAULT`
    control    up / down / break / fix, with the state kept between commands
    status     topology and process tables, end-to-end checks with evidence
    cluster    the lab as the API would describe it, and its snapshot (`-p source lab`)
    faults     FAULTS: name -> where, what breaks, expected finding, apply/revert
    services   the servers in the pods (HTTP backends, dnsmasq, openssl s_server)
    certs      the lab CA and the server certificate variants
    topology   LAB (every name and address), namespaces, links, kube-proxy rules, resolv.conf
    state      the state directory and state.json
    system     commands, namespaces, processes by PID; LabError

Runbook tests take names and addresses from :data:`k8srun.lab.topology.LAB`.
"""
