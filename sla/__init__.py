"""SLA: the business calendar, deadlines per tier and stage, and the escalation ladder. Pure: no I/O."""
