"""Jiesu's entry points: the `jiesu` command (`cli`), the web app (`web`), the worker process (`worker`)
and the local Kafka broker for development (`localkafka`). They compose the packages below them and hold
no business rule of their own."""
