"""Products whose endpoints follow a description kept elsewhere: an OpenAPI document by URL.
The worker reads it (fetch.py, openapi.py) and keeps what it found for the admin to preview;
applying adds the new endpoints and retires those that left (sources.py). No Flask routes here:
the admin's screens are in webapp/admin."""
