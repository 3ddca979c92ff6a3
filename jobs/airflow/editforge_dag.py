"""Airflow DAG (Airflow 2.9+ and 3): one task per editforge stage, each a spark-submit through jobs/submit.

Trigger it with params (the UI's "Trigger DAG w/ config", or the defaults below for scheduled runs):
inputs (kind:path, e.g. dpr:hdfs:///data/psgs_w100.tsv), model, editforge_conf, the k/n sizes, and
where the checkout (editforge_home, with target/editforge.jar or $EDITFORGE_JAR) lives on the worker.
Each run writes to <run_root>/<logical date as YYYYMMDDTHHMMSS>, so two runs never share a
directory, while clearing a task of the same run resumes in its own directory: every stage skips
itself when its inputs and config are unchanged.

Exit codes decide what Airflow does: 1 (unexpected) is retried with exponential backoff; 2 (bad
usage, config or input: no inputs, no model, a missing file) and 3 (a quality threshold failed)
fail at once without retry, so a run with nothing configured fails at its first task instead of
finishing green. BashOperator only sees "non-zero", so jobs/airflow/editforge-task writes the code
to a file that EditforgeTask reads. Nothing is read from Airflow Variables at import time.

The tasks call jobs/submit rather than SparkSubmitOperator because jobs/submit adds the class, the
jar, the JVM flags and ships editforge's config and the GPU discovery script; with the Spark
provider installed, SparkSubmitOperator can run the same arguments, but its failures carry no exit
code, so 2 and 3 would be retried like 1.
"""

import os
import shlex
import tempfile
from datetime import datetime, timedelta

from airflow.exceptions import AirflowException, AirflowFailException, AirflowSkipException

try:  # Airflow 3
    from airflow.sdk import DAG, Param
except ImportError:  # Airflow 2.9 / 2.10
    from airflow import DAG
    from airflow.models.param import Param

try:  # Airflow 3 (and 2.x with apache-airflow-providers-standard)
    from airflow.providers.standard.operators.bash import BashOperator
except ImportError:  # Airflow 2.x
    from airflow.operators.bash import BashOperator

EXIT_CODE_FILE = "EDITFORGE_EXIT_CODE_FILE"


class EditforgeTask(BashOperator):
    """A BashOperator whose editforge exit code 2 or 3 fails the task without retry."""

    def execute(self, context):
        with tempfile.TemporaryDirectory(prefix="editforge-task-") as tmp:
            code_file = os.path.join(tmp, "exit-code")
            # append_env keeps the worker's PATH, SPARK_HOME, HADOOP_CONF_DIR, ...
            self.env = {**(self.env or {}), EXIT_CODE_FILE: code_file}
            self.append_env = True
            try:
                return super().execute(context)
            except AirflowSkipException:
                raise
            except AirflowException as failed:
                code = _exit_code(code_file)
                if code == 2:
                    raise AirflowFailException(
                        "editforge exit 2: bad usage, config or input (see the log above); not retried"
                    ) from failed
                if code == 3:
                    raise AirflowFailException(
                        "editforge exit 3: data-quality failure, a stage's quality threshold failed;"
                        " not retried"
                    ) from failed
                raise


def _exit_code(path):
    try:
        with open(path, encoding="utf-8") as f:
            return int(f.read().strip())
    except (OSError, ValueError):
        return None


RUN_DIR = "{{ params.run_root | sh }}/{{ ts_nodash }}"
MODEL = "{% if params.model %} --model {{ params.model | sh }}{% endif %}"

# (task id, editforge command and its own options, execution timeout); the run dir, --set and the
# submit options are added to every one.
STAGES = [
    ("ingest", "ingest{% for i in params.inputs %} --input {{ i | sh }}{% endfor %}", timedelta(hours=2)),
    ("embed", "embed", timedelta(hours=6)),
    ("index", "index", timedelta(hours=4)),
    ("retrieve", "retrieve --k {{ params.retrieve_k }}", timedelta(hours=2)),
    ("generate", "generate --what self-edits" + MODEL + " --k {{ params.self_edits_k }}", timedelta(hours=12)),
    ("reasoning", "generate --what reasoning" + MODEL + " --n {{ params.reasoning_n }}", timedelta(hours=12)),
    ("score", "score" + MODEL, timedelta(hours=12)),
    ("select", "select --k {{ params.select_k }}", timedelta(hours=1)),
    ("finetune", "finetune" + MODEL, timedelta(hours=12)),
    ("evaluate", "evaluate" + MODEL, timedelta(hours=6)),
    ("export", "export --table {{ params.export_tables }} --out " + RUN_DIR + "/export", timedelta(hours=1)),
    ("report", "report", timedelta(minutes=30)),
]

# Task order: the pipeline's, with reasoning (problems -> traces) beside the self-edit branch.
EDGES = [
    ("ingest", "embed"),
    ("embed", "index"),
    ("index", "retrieve"),
    ("retrieve", "generate"),
    ("generate", "score"),
    ("score", "select"),
    ("select", "finetune"),
    ("finetune", "evaluate"),
    ("ingest", "reasoning"),
    ("reasoning", "export"),
    ("evaluate", "export"),
    ("export", "report"),
]


def command(stage_command):
    """The task's bash command: editforge-task wrapping jobs/submit, as a Jinja template."""
    home = "{{ params.editforge_home | sh }}"
    return (
        f"{home}/jobs/airflow/editforge-task {home}/jobs/submit"
        "{% if params.master %} --master {{ params.master | sh }}{% endif %}"
        "{% for o in params.spark_submit_options %} {{ o | sh }}{% endfor %}"
        " --editforge-conf {{ params.editforge_conf | sh }} "
        + stage_command
        + " --run-dir "
        + RUN_DIR
        + "{% for s in params.sets %} --set {{ s | sh }}{% endfor %}"
    )


with DAG(
    dag_id="editforge",
    description="editforge: raw knowledge -> scored SFT dataset -> fine-tuned model, on Spark",
    start_date=datetime(2026, 1, 1),
    schedule="0 2 * * *",
    catchup=False,
    # Runs of one pipeline compete for the same GPUs; a second one waits.
    max_active_runs=1,
    user_defined_filters={"sh": lambda v: shlex.quote(str(v))},
    default_args={
        "retries": 3,
        "retry_delay": timedelta(minutes=2),
        "retry_exponential_backoff": True,
        "max_retry_delay": timedelta(hours=1),
    },
    params={
        "inputs": Param(
            [],
            type="array",
            items={"type": "string"},
            description="ingest inputs as kind:path (squad, dpr, passages-jsonl, logic, instructions);"
            " none configured fails the run at ingest",
        ),
        "model": Param(
            "",
            type="string",
            description="base model of the model stages (HF dir, hub id or hdfs:// URI); empty: the conf's",
        ),
        "editforge_conf": Param(
            "/opt/editforge/conf/cluster.conf", type="string", description="editforge HOCON overlay"
        ),
        "editforge_home": Param(
            "/opt/editforge", type="string", description="checkout on the worker (jobs/submit, the jar)"
        ),
        "master": Param("yarn", type="string", description="spark-submit --master; empty: $SPARK_MASTER"),
        "spark_submit_options": Param(
            [],
            type="array",
            items={"type": "string"},
            description='spark-submit options, one word each, e.g. ["--queue", "gpu", "--conf", "k=v"]',
        ),
        "run_root": Param(
            "hdfs:///user/editforge/runs", type="string", description="runs go to <run_root>/<logical date>"
        ),
        "self_edits_k": Param(5, type="integer", minimum=1, description="self-edits per article"),
        "reasoning_n": Param(4, type="integer", minimum=1, description="reasoning traces per question"),
        "retrieve_k": Param(20, type="integer", minimum=1, description="passages retrieved per query"),
        "select_k": Param(1, type="integer", minimum=1, description="self-edits kept per article"),
        "export_tables": Param("sft", type="string", description="export --table (a,b,c or all)"),
        "sets": Param(
            [],
            type="array",
            items={"type": "string"},
            description="extra --set key=value for every command, e.g. ttt.epochs=5",
        ),
    },
    tags=["editforge", "spark"],
) as dag:
    tasks = {
        task_id: EditforgeTask(task_id=task_id, bash_command=command(cmd), execution_timeout=timeout)
        for task_id, cmd, timeout in STAGES
    }
    for upstream, downstream in EDGES:
        tasks[upstream] >> tasks[downstream]
