"""The case model (工单): pure dataclasses and rules of state; no I/O, no clock, no JSON."""
