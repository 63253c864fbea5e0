"""Dispatch rules: from a request to the unit, post and person on duty (派单目录). Pure: no I/O."""
