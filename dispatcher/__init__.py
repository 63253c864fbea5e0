"""Jiesu (接诉): the case model, the service layer, storage adapters and the entry points."""
