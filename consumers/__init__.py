"""The Kafka side: faust agents for the inbound topics, the outbox relay, dead-lettering."""
