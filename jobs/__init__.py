"""The job runner: short, idempotent scans of the database, run on a schedule by APScheduler.

Nothing important lives only in the scheduler's memory: the database is the schedule. `jobs.table.JOBS`
lists the jobs; `jobs.runner` runs them (alone under `zoombot scheduler`, in the background of `zoombot serve`).
"""
