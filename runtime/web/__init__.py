"""The web app: pages rendered with Jinja2 + htmx, and the JSON API."""
