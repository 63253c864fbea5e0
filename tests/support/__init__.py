"""What the suites share, one module per concern: the tests' time (`clock`), the people the web tests act
as and how they log in (`logins`), requests and their Kafka records (`builders`), small catalogs written to
a folder (`catalogs`), and fakes of our own ports (`fakes`).

The fixtures built on them are in the conftest files: `tests/conftest.py` (the clock, the broker, the
databases) and `tests/integration/conftest.py` (a system over the small catalog, people with tokens, the
REST API's test client)."""
