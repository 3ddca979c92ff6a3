"""Imports a DAG file against the stub airflow package and prints, as JSON, its settings, its tasks
in dependency order with their commands rendered by Jinja for a sample logical date, and how the
operator maps exit codes 1, 2 and 3.

    python3 render_dag.py DAG_FILE PARAMS_JSON PROBE_PREFIX
"""

import importlib.util
import json
import sys
from datetime import datetime, timezone

import jinja2

dag_file, overrides, probe_prefix = sys.argv[1], json.loads(sys.argv[2]), sys.argv[3]
spec = importlib.util.spec_from_file_location("editforge_dag", dag_file)
module = importlib.util.module_from_spec(spec)
spec.loader.exec_module(module)
dag = module.dag

logical = datetime(2026, 1, 15, 2, 0, tzinfo=timezone.utc)
params = {k: getattr(p, "value", p) for k, p in dag.params.items()}
unknown = set(overrides) - set(params)
if unknown:
    sys.exit(f"params not declared by the DAG: {sorted(unknown)}")
params.update(overrides)
context = {
    "params": params,
    "ds": logical.strftime("%Y-%m-%d"),
    "ds_nodash": logical.strftime("%Y%m%d"),
    "ts": logical.isoformat(),
    "ts_nodash": logical.strftime("%Y%m%dT%H%M%S"),
    "logical_date": logical,
    "run_id": "scheduled__" + logical.isoformat(),
}
env = jinja2.Environment(undefined=jinja2.StrictUndefined)
env.filters.update(dag.user_defined_filters)

# Kahn's algorithm, ties broken by declaration order, so the order is the one a run could take.
order, pending = [], list(dag.tasks)
while pending:
    ready = [t for t in pending if all(u in order for u, d in dag.edges if d == t)]
    if not ready:
        sys.exit("the DAG has a cycle")
    order.append(ready[0])
    pending.remove(ready[0])

tasks = []
for task_id in order:
    op = dag.tasks[task_id]
    timeout = op.kwargs.get("execution_timeout")
    tasks.append(
        {
            "id": task_id,
            "command": env.from_string(op.bash_command).render(context),
            "execution_timeout_s": timeout.total_seconds() if timeout else None,
        }
    )

mapping = {}
for code in (1, 2, 3):
    probe = module.EditforgeTask(
        task_id=f"exit{code}", bash_command=f"{probe_prefix} bash -c 'exit {code}'"
    )
    try:
        probe.execute({})
        mapping[str(code)] = "ok"
    except Exception as e:  # the class name is what the test checks
        mapping[str(code)] = type(e).__name__

default_args = dag.default_args
print(
    json.dumps(
        {
            "schedule": dag.kwargs.get("schedule"),
            "max_active_runs": dag.kwargs.get("max_active_runs"),
            "retries": default_args.get("retries"),
            "retry_exponential_backoff": default_args.get("retry_exponential_backoff"),
            "params": sorted(params),
            "tasks": tasks,
            "edges": dag.edges,
            "exit_codes": mapping,
        }
    )
)
