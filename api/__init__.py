"""The Litestar application, its HTTP surface and the `fieldhub` command line."""
