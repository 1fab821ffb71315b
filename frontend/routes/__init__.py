"""The API's routes, a module per resource; frontend.app includes them."""
