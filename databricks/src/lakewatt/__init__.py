"""Lakewatt Spark/Delta jobs: silver and gold tables of the energy lakehouse."""

__version__ = "0.1.0"
