"""The software each IP office runs: its keys, its records, and its link to the shared chain."""
