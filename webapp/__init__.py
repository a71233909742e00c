"""The support-requests portal: create_app() builds the Flask application."""
