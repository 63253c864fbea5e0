"""The public event contract: wire schemas (pydantic) and the CloudEvents 1.0 Kafka binding.

Wire formats live here, apart from the domain: the domain's dataclasses never touch JSON.
"""
