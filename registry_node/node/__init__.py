"""An office's node: its store and outbox, the office that accepts and signs changes, the transactor that
sends them to the chain, its settings, its HTTP API and its commands. It never imports the gateway or the
lab tools (devnet, experiment)."""
