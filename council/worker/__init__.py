"""The council's Prefect worker: Prefect's process worker whose flow runs start without importing.

Under Prefect's own process worker every flow run is a new interpreter (two, with Prefect 3.9's
workspace supervisor) that imports Prefect and the service before the flow's first line: seconds
of CPU per run, as much as a 300-body send's own work. Here each worker keeps one *fork server*
(:mod:`council.worker.forks`) that has imported them once; a flow run's process
(:mod:`council.worker.launch`, a few milliseconds of Python) asks it for a forked child, which runs
Prefect's engine as ``python -m prefect.engine`` would, with the run's own environment, folder and
standard streams. Without the fork server the launcher runs the engine itself, as before.

``python -m council.worker --pool council --name NAME`` starts one (`council run` starts N of them).
"""
