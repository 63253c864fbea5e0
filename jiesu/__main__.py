"""`python -m jiesu ...`: the `jiesu` command, for a child process run with this interpreter."""

from jiesu.cli.main import main

main()
