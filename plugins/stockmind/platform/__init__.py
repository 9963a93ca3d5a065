"""The local platform: what ``make up`` runs on a developer's machine.

A project-local PostgreSQL cluster (``postgres_cluster``), Airflow's environment
(``airflow_env``), process supervision of Redis, Airflow, the dbt docs server and the REST
API (``processes``), Airflow's REST client (``airflow_client``), the ``make up`` sequence
(``bootstrap``) and the ``stockmind`` command line (``cli``).

It builds on the core (``stockmind``); nothing in the core, the API or the DAGs imports
it (tests/test_layers.py). A production deployment replaces this whole part with
docker-compose or Kubernetes and keeps everything else.
"""
