"""The rules and use cases of parlour, one module per feature; no HTTP, no SQL here."""
