"""A real OpenID provider for the tests: tests/oidc/provider.mjs (oidc-provider on Node.js),
started by the fixtures in tests/oidc/fixtures.py."""
