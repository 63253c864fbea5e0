"""Dispatch rules: from a request to the unit, post and person on duty (派单目录). No database, Kafka or
network: `loader` and `corpus` read the catalog's files; the rest is pure."""
