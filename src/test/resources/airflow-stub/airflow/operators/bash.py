"""Stub BashOperator: records its arguments; execute runs the command the way Airflow's does."""

import os
import subprocess

import airflow
from airflow.exceptions import AirflowException, AirflowSkipException


class BashOperator:
    def __init__(self, task_id, bash_command, env=None, append_env=False, skip_on_exit_code=99, **kwargs):
        self.task_id = task_id
        self.bash_command = bash_command
        self.env = env
        self.append_env = append_env
        self.skip_on_exit_code = skip_on_exit_code
        self.kwargs = kwargs
        self.dag = airflow._current[-1] if airflow._current else None
        if self.dag is not None:
            self.dag.tasks[task_id] = self

    def __rshift__(self, other):
        self.dag.edges.append((self.task_id, other.task_id))
        return other

    def execute(self, context):
        env = dict(os.environ) if self.append_env or self.env is None else {}
        env.update(self.env or {})
        code = subprocess.run(["bash", "-c", self.bash_command], env=env).returncode
        if code == self.skip_on_exit_code:
            raise AirflowSkipException(f"Bash command returned exit code {code}. Skipping.")
        if code != 0:
            raise AirflowException(f"Bash command failed. The command returned a non-zero exit code {code}.")
