"""The local platform: what ``make up`` runs on a developer's machine.

A project-local PostgreSQL cluster (``postgres_cluster``), the processes' environment
(``environment``), process supervision of Redis, Airflow, the dbt docs server and the REST
API (``processes``), Airflow's REST client (``airflow_client``), years of sample history
for a first run (``sample_history``), the ``make up`` sequence (``bootstrap``) and the
``stockmind`` command line (``cli``).

It builds on the core (``stockmind``); nothing in the core, the API or the DAGs imports
it (tests/test_layers.py). A production deployment replaces the cluster, the process
supervision and the bootstrap with docker-compose or Kubernetes and keeps everything
else; the command line stays the operator's tool there too (compose runs
``stockmind db migrate`` and ``stockmind api``).
"""
