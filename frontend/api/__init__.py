"""HTTP: the FastAPI app, routes per resource, wire schemas, the error body, guards, observability."""
