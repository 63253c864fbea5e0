"""The `jiesu` command: `main` assembles it, one module per command group (`jiesu rules` is `rules`,
`jiesu case` is `case`...); each translates arguments, calls the system and prints the outcome."""
