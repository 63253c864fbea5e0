"""Fault injection: crashes and outages under load, on throwaway infrastructure, checked from the database
and the topics.

    .venv/bin/python -m bench.faults [kill-worker broker-restart database-down sweeper-killed two-sweepers]

Each scenario gets a fresh database and fresh topics on a PostgreSQL cluster and a Kafka broker of its own
(127.0.0.1:55432 and 127.0.0.1:29092 by default), removed at the end; the shared broker and database are
never touched. The run prints a markdown table, one row per scenario, and exits non-zero if one failed.
"""
