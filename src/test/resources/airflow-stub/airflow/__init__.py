"""Stub of airflow: DAG as a context manager that collects its tasks."""

_current = []


class DAG:
    def __init__(self, dag_id, params=None, user_defined_filters=None, default_args=None, **kwargs):
        self.dag_id = dag_id
        self.params = params or {}
        self.user_defined_filters = user_defined_filters or {}
        self.default_args = default_args or {}
        self.kwargs = kwargs
        self.tasks = {}
        self.edges = []

    def __enter__(self):
        _current.append(self)
        return self

    def __exit__(self, *exc):
        _current.pop()
        return False
