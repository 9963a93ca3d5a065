-- First start of the TimescaleDB container: the warehouse database comes from
-- POSTGRES_DB; Airflow and MLflow get their own databases on the same server.
create database airflow;
create database mlflow;
