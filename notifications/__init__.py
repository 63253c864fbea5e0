"""Notifications: message templates and delivery channels."""
