"""Airflow DAG: one task per editforge stage, each a spark-submit through jobs/submit.

Every stage skips itself when its inputs and config are unchanged, so clearing and re-running a
task (or the whole DAG) resumes where the last run stopped. Exit codes: 0 ok, 2 bad usage/config/
input (do not retry), 3 a quality threshold failed (e.g. too many rejected records), 1 anything else.

Set the Airflow Variables editforge_home (checkout with target/editforge.jar), editforge_master
(e.g. yarn) and editforge_run_dir (e.g. hdfs:///user/editforge/runs/nightly).
"""
from datetime import datetime, timedelta

from airflow import DAG
from airflow.models import Variable
from airflow.operators.bash import BashOperator

STAGES = ["ingest", "embed", "index", "retrieve", "generate", "score", "select", "finetune", "evaluate"]

HOME = Variable.get("editforge_home", default_var="/opt/editforge")
MASTER = Variable.get("editforge_master", default_var="yarn")
RUN_DIR = Variable.get("editforge_run_dir", default_var="hdfs:///user/editforge/runs/nightly")

with DAG(
    dag_id="editforge",
    start_date=datetime(2026, 1, 1),
    schedule=None,
    catchup=False,
    default_args={"retries": 1, "retry_delay": timedelta(minutes=5)},
    tags=["editforge", "spark"],
) as dag:
    previous = None
    for stage in STAGES:
        task = BashOperator(
            task_id=stage,
            bash_command=f"{HOME}/jobs/submit --master {MASTER} {stage} --run-dir {RUN_DIR}",
            # A usage or config error will not fix itself on retry.
            skip_on_exit_code=None,
        )
        if previous is not None:
            previous >> task
        previous = task
