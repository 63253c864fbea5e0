"""Adapters of the case core: storage (SQLAlchemy: the tables, the SQL unit of work and the outbox, SLA
timers, callbacks and their tallies, people and tokens, the center's corrections) and the operator's files
(the dispatch catalog, the SLA and assessment files)."""
