"""One router per resource: rights, outbox, documents."""
