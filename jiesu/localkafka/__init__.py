"""A local single-node Kafka broker for development and tests (`broker`), and the contract's topics
(`topics`): what `jiesu kafka` and `jiesu topics` run."""
