"""The Kafka side: the faust app and its agents for the inbound topics (intake, actions, feedback), with
dead-lettering; the outbox relay; the intake publisher; the SLA sweeper and the month's final scores, both
APScheduler jobs."""
