"""The read side of the case core: every read the web, Open311, metrics, the notifications and the CLIs
make, one module per concern, returning the read models of `views`; routes build no SQL.

- `cases`: one case (view, access facts, requester, where it went) and `GET /api/cases`
- `timeline`: a case's audit trail
- `inbox`: a worker's open cases, the nearest deadline first
- `badges`: a case at a glance: urgency, the requester's groups, repeats, reopened, co-handled
- `names`: names for ids (units, posts, people, categories with their path, areas) from the catalog
- `queues`: triage, arbitration (both filterable: `QueueFilter`), open emergencies, extension requests,
  what waits in each queue
- `knowledge`: the knowledge base (知识库): its search, entries and categories; the direct closes (直接办结率)
- `dashboard`: the open cases' counts (in all, by district, street or category domain), overdue cases by
  unit, the daily volume, the overdue rate per week, the three rates per month
- `desk`: for the dispatch desk, a waiting case's proposals (the router's candidates) and the catalog's
  units and posts found by name
- `search`: the dashboard's search
- `escalations`: fired escalations, paged, the latest few, and as a live feed
- `scores`: the three rates per unit, post or person, the monthly ranking, a unit's month broken down
- `monthly`: 每月一题, the month's recurring problems by category × area (`monthly_export`: as CSV, a table)
- `open311`: `GET requests`
- `metrics`: the counts of `GET /metrics`
- `notifications`: the cases events are about (for the planner), and the delivery log
- `digest`: the supervisors' daily digest: overdue deadlines, a day's requests by category
- `recipients`: accounts' names, people's preferences, the supervisors' accounts
- `appeals`: appeals against callbacks
- `whatif`: stored cases replayed against a candidate catalog (`jiesu rules whatif`)
- `corrections`: the center's corrections as labelled examples (`jiesu rules train`)
- `outbox`: what the system published, read back in order (the demo's history reacts to it)
- `views`: the read models they return (pydantic), as the API sends them

Each read is one statement (or a few) on its own read-only connection (`adapters.database.reading`: on
SQLite it takes no write lock), and changes nothing. Every list is filtered, scoped to what the caller may
see (`Visible`), ordered and bounded in SQL, and the lists that grow are paged with keyset cursors
(`paging`); migration 0017 adds the indexes they read.
"""
