"""Airflow: keep a factrace warehouse current, one spark-submit task per step of factrace's own update plan.

The task list is ``tracer.update.plan`` (what ``factrace update --dry-run`` prints), so Airflow runs exactly
what ``factrace update`` would, in the same order; Airflow re-parses this file, and the plan follows the
warehouse. Set FACTRACE_UPDATE_CONFIG, and FACTRACE_SPARK_SUBMIT to your cluster's spark-submit
(README, "Running on a cluster"). Copy or link this file into Airflow's dags folder; the scheduler's
Python needs factrace installed.
"""

from __future__ import annotations

import os
import shlex
from datetime import datetime

from airflow import DAG
from airflow.operators.bash import BashOperator

from tracer.update import Settings, plan

CONFIG = os.environ.get("FACTRACE_UPDATE_CONFIG", "/etc/factrace/factrace.toml")
SUBMIT = os.environ.get("FACTRACE_SPARK_SUBMIT", "spark-submit --archives /opt/factrace/dist/factrace-env.tar.gz#env")
JOBS = os.environ.get("FACTRACE_JOBS", "/opt/factrace/jobs")


def command(argv: list[str]) -> str:
    stage, *args = argv
    if stage == "report":  # no Spark
        return shlex.join(["factrace", *argv])
    return f"{SUBMIT} {shlex.join([f'{JOBS}/{stage}.py', *args])}"


with DAG(
    "factrace_update", schedule="@daily", start_date=datetime(2026, 1, 1), catchup=False, max_active_runs=1
) as dag:
    previous = None
    for number, step in enumerate(plan(Settings.load(CONFIG))[0]):
        task = BashOperator(task_id=f"{number:02d}_{step.stage}", bash_command=command(step.argv()))
        if previous is not None:
            previous >> task
        previous = task
