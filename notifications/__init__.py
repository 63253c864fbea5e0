"""Notifications: who is told of what (`policy`, `directory`), the messages planned from the case events
(`planner`), templates and their rendering (`render`), the channels and their delivery (`channels`,
`delivery`), the supervisors' daily digest (`digest`), put together for `jiesu run` by `service`."""
