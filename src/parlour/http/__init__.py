"""The HTTP layer: request parsing, auth cookie, error mapping, SSE, and the route table."""
