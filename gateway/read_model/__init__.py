"""The gateway's read model: the database, the indexer that follows the chain's events into it (with
enrichment from the offices' deep links), and the queries the API answers from it."""
