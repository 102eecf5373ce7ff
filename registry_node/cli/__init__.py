"""The `ipreg` command, composed from each part's own subcommands (registry_node.cli.main)."""
