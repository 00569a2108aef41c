"""One module per publisher. Each builds requests, checks answers and parses releases; transports move bytes."""
