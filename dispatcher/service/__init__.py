"""The service layer: the unit-of-work port, the message bus and the command handlers."""
