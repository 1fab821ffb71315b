"""The API's routes, a module per resource; frontend.api.app includes them."""
