"""Use cases: what a handler or a job calls. Each joins the domain rules with the store."""
